#!/usr/bin/perl
# Failure handling: Redis frozen (SIGSTOP) must not block the worker,
# Redis killed and restarted is recovered without a reload, garbage in
# Redis is answered 503 with a log line and never crashes a worker.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;

my $READ = 0.3;
my $h2 = PitTest::free_port();
my $t = PitModule->new(timeout => '100ms 300ms',
                       listen_extra => "listen 127.0.0.1:$h2 http2;",
                       server => <<'END');
        location /api/ {
            pit_auth on;
            proxy_pass %%UP%%;
        }
END
my $redis = $t->redis;
my ($id, $tok) = $t->token(account => 'acct1');
is($t->bearer('/api/x', $tok)->{status}, 200, 'warm: 200');
my @workers = $t->nginx->worker_pids;
is(scalar @workers, 1, 'one worker');

# --- Redis frozen -------------------------------------------------------

kill 'STOP', $redis->pid;

my ($worst_open, $n_open, @pit) = (0, 0);
for my $round (1 .. 3) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $t->port) or die;
    my $t0 = time;
    print $s PitModule::request_text('/api/x',
                                     Authorization => "Bearer $tok");
    my $sel = IO::Select->new($s);
    my $raw = '';
    while (1) {
        # the same worker keeps serving a location without pit_auth
        my ($dt, $r) = $t->timed('/open');
        $n_open++;
        $worst_open = $dt if $dt > $worst_open;
        $worst_open = 99 if ($r->{status} // 0) != 200;
        last if $sel->can_read(0.01);
        last if time - $t0 > 2;
    }
    $sel->can_read(2);
    sysread $s, $raw, 65536;
    my ($st) = $raw =~ m{^HTTP/1\.1 (\d+)};
    push @pit, [$st // 0, time - $t0];

    # past the reconnect backoff: the next lookup waits on a fresh
    # connection that the frozen Redis's kernel accepted
    sleep 0.3;
}
kill 'CONT', $redis->pid;

for my $i (0 .. $#pit) {
    is($pit[$i][0], 503, "frozen Redis, request $i: 503");
    cmp_ok($pit[$i][1], '<', $READ + 0.1,
           sprintf("frozen Redis, request $i: answered in %.0f ms",
                   $pit[$i][1] * 1000));
}
cmp_ok($n_open, '>=', 3, "$n_open requests to /open meanwhile");
cmp_ok($worst_open, '<', 0.05,
       sprintf('/open kept answering, slowest %.1f ms', $worst_open * 1000));
diag(sprintf('503 latencies under SIGSTOP: %s ms; slowest /open %.1f ms',
             join(', ', map { sprintf '%.0f', $_->[1] * 1000 } @pit),
             $worst_open * 1000));

my $t0 = time;
my $ok = 0;
while (time - $t0 < 3) {
    if ($t->bearer('/api/x', $tok)->{status} == 200) { $ok = 1; last; }
    sleep 0.05;
}
ok($ok, sprintf('after SIGCONT: 200 again in %.0f ms', (time - $t0) * 1000));

# --- Redis killed and restarted -------------------------------------------

my $key = PitTest::Pitctl::token_key($tok);
my $value = $redis->raw('GET', $key);
$redis->stop;

my @down;
for (1 .. 10) {
    my ($dt, $r) = $t->timed('/api/x', Authorization => "Bearer $tok");
    push @down, [$r->{status}, $dt];
    sleep 0.15;
}
is(scalar(grep { $_->[0] == 503 } @down), 10, 'Redis down: 503 every time');
cmp_ok((sort { $b <=> $a } map { $_->[1] } @down)[0], '<', $READ + 0.1,
       'Redis down: answered fast');
my $r = $t->bearer('/api/x', $tok);
is(PitTest::HTTP::header($r, 'Retry-After'), '1', 'Redis down: Retry-After');

$t0 = time;
$redis->start;
$redis->cmd('SET', $key, $value);
$ok = 0;
while (time - $t0 < 5) {
    if ($t->bearer('/api/x', $tok)->{status} == 200) { $ok = 1; last; }
    sleep 0.05;
}
my $recovery = time - $t0;
ok($ok, 'Redis restarted: 200 again without a reload');
cmp_ok($recovery, '<', 2, sprintf('recovered in %.0f ms', $recovery * 1000));
diag(sprintf('recovery after restart: %.0f ms', $recovery * 1000));
is(join(' ', $t->nginx->worker_pids), join(' ', @workers),
   'same worker, no reload');

# --- garbage in Redis -------------------------------------------------------

my %garbage = (
    'not JSON' => 'this is not json',
    'not an object' => '[1,2,3]',
    'unknown version' => '{"v":2,"iid":"AAAAAAAAAAAAAAAAAAAA","acct":"a",'
        . '"acct_type":"location","scopes":[],"role":"primary","until":0}',
    'wrong types' => '{"v":1,"iid":5,"acct":["a"],"acct_type":"location",'
        . '"scopes":"x","role":"primary","until":"0"}',
    'bad role' => '{"v":1,"iid":"AAAAAAAAAAAAAAAAAAAA","acct":"a",'
        . '"acct_type":"location","scopes":[],"role":"boss","until":0}',
    'empty' => '',
);
my ($gid, $gtok) = $t->token(account => 'acct1');
my $gkey = PitTest::Pitctl::token_key($gtok);
for my $name (sort keys %garbage) {
    PitTest::run_cmd(['redis-cli', '-p', $redis->port, '-x', 'SET', $gkey],
                     stdin => $garbage{$name});
    $r = $t->bearer('/api/x', $gtok);
    ok($r->{status} == 503 || $r->{status} == 401, "garbage ($name): "
       . "$r->{status}");
}
PitTest::run_cmd(['redis-cli', '-p', $redis->port, '-x', 'SET', $gkey],
                 stdin => '{"v":1,"pad":"' . ('x' x 100_000) . '"}');
is($t->bearer('/api/x', $gtok)->{status}, 503, 'garbage (100 kB JSON): 503');
PitTest::run_cmd(['redis-cli', '-p', $redis->port, '-x', 'SET', $gkey],
                 stdin => 'x' x 3_000_000);
is($t->bearer('/api/x', $gtok)->{status}, 503, 'garbage (3 MB): 503');
$redis->cmd('DEL', $gkey);
$redis->cmd('HSET', $gkey, 'a', 'b');
is($t->bearer('/api/x', $gtok)->{status}, 503, 'garbage (wrong type): 503');
is($t->bearer('/api/x', $tok)->{status}, 200, 'a good token still works');
is(join(' ', $t->nginx->worker_pids), join(' ', @workers), 'no crash');

# --- clients that leave while their lookup is pending ----------------------

kill 'STOP', $redis->pid;
for (1 .. 5) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $t->port) or die;
    print $s PitModule::request_text('/api/x',
                                     Authorization => "Bearer $tok");
    close $s;
    PitTest::run_cmd(['curl', '-s', '--http2-prior-knowledge', '--max-time',
                      '0.05', '-H', "Authorization: Bearer $tok",
                      "http://127.0.0.1:$h2/api/x"]);
}
sleep 0.1;
kill 'CONT', $redis->pid;
sleep $READ + 0.1;
$t0 = time;
$ok = 0;
while (time - $t0 < 3) {
    if ($t->bearer('/api/x', $tok)->{status} == 200) { $ok = 1; last; }
    sleep 0.05;
}
ok($ok, 'clients gone while waiting: the worker carries on');
is(join(' ', $t->nginx->worker_pids), join(' ', @workers),
   'clients gone while waiting: no crash');

# --- reload: new workers connect, old ones leave ---------------------------

$t->nginx->reload;
$t0 = time;
my @now;
while (time - $t0 < 5) {
    @now = $t->nginx->worker_pids;
    last if @now == 1 && $now[0] != $workers[0];
    sleep 0.05;
}
ok(@now == 1 && $now[0] != $workers[0],
   sprintf('reload: old worker gone in %.0f ms', (time - $t0) * 1000));
is($t->bearer('/api/x', $tok)->{status}, 200, 'reload: 200');
my @clients = grep { /\bcmd=/ && !/\bcmd=client/ }
              split /\n/, $redis->raw('CLIENT', 'LIST');
is(scalar @clients, 1, 'reload: one Redis connection left');

my $log = $t->error_log;
(my $hint = $gtok) =~ s/^(pit-[0-9a-f]{4}).*([0-9a-f]{4})$/$1/;
my $hash8 = substr(PitTest::Pitctl::token_hash($gtok), 0, 8);
my @lines = grep { /\[error\].*undecodable token record.*\Q$hint\E\*{4}.*key \Q$hash8\E\.\.\./ }
            split /\n/, $log;
cmp_ok(scalar @lines, '>=', 7, 'garbage logged at [error] with hint and '
       . 'key prefix');
like($log, qr/\[error\].*error reply, token \Q$hint\E/,
     'wrong type logged');
like($log, qr/\[error\].*value too large/, 'huge value logged');
like($log, qr/\[error\].*reply timed out/, 'timeout logged');
unlike($log, qr/\Q$tok\E|\Q$gtok\E/, 'no token in error.log');

done_testing();
