#!/usr/bin/perl
# Fault injection on the lookup connection, with a fake Redis
# (tests/t/lib/FakeRedis.pm) that answers half a reply and hangs, closes
# mid-reply, sends garbage RESP, a 512 MB bulk length, deeply nested
# arrays, an error reply, a reply of the wrong type, answers slowly, hangs,
# or refuses connections.  For each: no crash, no [alert], never an allow
# (a token that Redis cannot vouch for is never 200), 503 while the fake
# cannot answer, and 200 again within 2 s once it answers properly.  Then
# the worker's CPU while the backend refuses connections for 5 s.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;
use FakeRedis;

my $READ = 0.3;

# A real token record, made by pitctl against a real Redis, served by the
# fake.
my $real = PitTest::Redis->new;
my ($id, $tok) = PitTest::Pitctl::create($real, account => 'acct1');
my $key = PitTest::Pitctl::token_key($tok);
my $value = $real->raw('GET', $key);
like($value, qr/^\{"v":1/, 'a token record from pitctl');

my $fake = FakeRedis->new(data => { $key => $value });
my $t = PitModule->new(redis => $fake, timeout => '100ms 300ms',
                       server => <<'END');
        location /api/ {
            pit_auth on;
            pit_auth_scope contacts.readonly;
            proxy_pass %%UP%%;
        }
        location /w/ {
            pit_auth on;
            pit_auth_scope contacts.write;
            proxy_pass %%UP%%;
        }
END
my $unknown = 'pit-0123abcd-0000-4000-8000-00000000beef';
my $malformed = 'pit-0123abcd-0000-4000-8000-00000000beeZ';

is($t->bearer('/api/x', $tok)->{status}, 200, 'fake ok: 200');
is($t->bearer('/api/x', $unknown)->{status}, 401, 'fake ok: unknown 401');
is($t->bearer('/w/x', $tok)->{status}, 403, 'fake ok: missing scope 403');
my @workers = $t->nginx->worker_pids;
is(scalar @workers, 1, 'one worker');

# Waits until the good token is answered 200; returns seconds or undef.
sub recovery {
    my $t0 = time;
    while (time - $t0 < 5) {
        return time - $t0 if $t->bearer('/api/x', $tok)->{status} == 200;
        sleep 0.02;
    }
    return undef;
}

my %fault = (
    half    => 'half a reply, then hangs',
    close   => 'half a reply, then closes',
    garbage => 'garbage RESP',
    huge    => 'a 512 MB bulk length',
    nested  => 'arrays nested 10,000 deep',
    error   => 'an error reply',
    integer => 'a reply of the wrong type',
    slow    => 'the reply after 1 s',
    hang    => 'no reply at all',
    refuse  => 'connections refused',
);
my @order = qw(half close garbage huge nested error integer slow hang refuse);
my (%worst, %recover);

for my $mode (@order) {
    $fake->mode('ok');
    ok(defined recovery(), "$mode: 200 before the fault");
    $fake->mode($mode, $mode eq 'slow' ? 1 : undef);

    my (@st, $slowest);
    $slowest = 0;
    for my $i (1 .. 4) {
        for my $tk ($tok, $unknown) {
            my ($dt, $r) = $t->timed(($i % 2 ? '/api/x' : '/w/x'),
                                     Authorization => "Bearer $tk");
            push @st, $r->{status};
            $slowest = $dt if $dt > $slowest;
        }
        # a malformed token is refused without Redis, whatever Redis does
        is($t->bearer('/api/x', $malformed)->{status}, 401,
           "$mode: malformed token 401") if $i == 1;
    }
    is(join(' ', @st), join(' ', (503) x @st),
       "$fault{$mode}: every lookup 503 (never 200, never 401/403)");
    cmp_ok($slowest, '<', $READ + 0.2,
           sprintf("$mode: answered within the read timeout (%.0f ms)",
                   $slowest * 1000));
    $worst{$mode} = $slowest;

    $fake->mode('ok');
    my $rec = recovery();
    ok(defined $rec && $rec < 2,
       sprintf("$mode: 200 again %.0f ms after the fake recovers",
               ($rec // 99) * 1000));
    $recover{$mode} = $rec // 99;
    is($t->bearer('/api/x', $unknown)->{status}, 401,
       "$mode: afterwards, unknown token 401");
    is(join(' ', $t->nginx->worker_pids), join(' ', @workers),
       "$mode: same worker (no crash)");
}

# A slow reply that arrives within the read timeout is used.
$fake->mode('slow', 0.1);
is($t->bearer('/api/x', $tok)->{status}, 200, 'slow (100 ms): 200');
is($t->bearer('/api/x', $unknown)->{status}, 401, 'slow (100 ms): 401');
$fake->mode('ok');

diag(join ', ', map { sprintf "%s %.0f/%.0f ms", $_, $worst{$_} * 1000,
                      $recover{$_} * 1000 } @order);
diag('(slowest 503 / recovery, per fault)');

# Malformed tokens never reach Redis.
my $before = $fake->gets;
$t->bearer('/api/x', $malformed) for 1 .. 20;
$t->get('/api/x', Authorization => 'Basic dXNlcjpwYXNz') for 1 .. 5;
$t->get("/api/x?access_token=$tok") for 1 .. 5;
is($fake->gets - $before, 0, 'malformed, other scheme, query token: 0 GETs');

# --- CPU while the backend refuses connections for 5 s -----------------

$fake->mode('refuse');
my $w = ($t->nginx->worker_pids)[0];
my $cpu0 = FakeRedis::cpu_seconds($w);
my $t0 = time;
my ($n, $n503, $n200) = (0, 0, 0);
while (time - $t0 < 5) {
    my $r = $t->bearer('/api/x', $tok);
    $n++;
    $n503++ if $r->{status} == 503;
    $n200++ if $r->{status} == 200;
    sleep 0.05;
}
my $wall = time - $t0;
my $cpu = FakeRedis::cpu_seconds($w) - $cpu0;
my ($gets, $accepted) = $fake->stats;
is($n200, 0, "refusing backend: no 200 in $n requests");
is($n503, $n, 'refusing backend: every request 503');
cmp_ok($cpu / $wall, '<', 0.05,
       sprintf('worker CPU during a 5 s outage: %.1f%% (%.2f s of %.1f s)',
               100 * $cpu / $wall, $cpu, $wall));
diag(sprintf('worker CPU during a 5 s outage with %d requests: %.2f%%',
             $n, 100 * $cpu / $wall));

# the idle worker too: no request, only reconnect attempts
$cpu0 = FakeRedis::cpu_seconds($w);
my (undef, $acc0) = $fake->stats;
sleep 3;
$cpu = FakeRedis::cpu_seconds($w) - $cpu0;
my (undef, $acc1) = $fake->stats;
cmp_ok($cpu / 3, '<', 0.02,
       sprintf('idle worker, backend down: %.1f%% CPU', 100 * $cpu / 3));
diag(sprintf('idle worker, backend down: %.2f%% CPU, %d connection '
             . 'attempts in 3 s', 100 * $cpu / 3, $acc1 - $acc0));
cmp_ok($acc1 - $acc0, '<=', 10,
       "idle worker: " . ($acc1 - $acc0) . " connection attempts in 3 s "
       . "(lazy reconnect, backoff)");

$fake->mode('ok');
my $rec = recovery();
ok(defined $rec && $rec < 2,
   sprintf('after the outage: 200 again in %.0f ms', ($rec // 99) * 1000));

# --- the fake dies outright ----------------------------------------------

$fake->stop;
is($t->bearer('/api/x', $tok)->{status}, 503, 'fake gone: 503');
$fake->start;
$rec = recovery();
ok(defined $rec && $rec < 2,
   sprintf('fake back: 200 again in %.0f ms', ($rec // 99) * 1000));

is(join(' ', $t->nginx->worker_pids), join(' ', @workers), 'no crash');
my $log = $t->error_log;
# (nginx itself logs request headers at debug level: see secrets_suite.t)
is(join("\n", grep { (/pit_auth/ || !/\[debug\]/)
                      && /\Q$tok\E|\Q$unknown\E|\Q$malformed\E/ }
               grep { /^\d{4}\/\d\d\/\d\d / } split /\n/, $log),
   '', 'no token in a module line or a line above debug');
unlike($log, qr/signal \d+|exited on/, 'no worker exited');

done_testing();
