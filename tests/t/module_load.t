#!/usr/bin/perl
# 1,000 concurrent requests with valid tokens on one worker: all 200,
# pipelined over one Redis connection.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use POSIX ();
use PitTest;
use PitModule;

my $N = 1000;
my $t = PitModule->new(workers => 1, timeout => '1s 2s',
                       main => 'worker_rlimit_nofile 8192;',
                       server => <<'END');
        location /gif {
            pit_auth on;
            empty_gif;
        }
END

my @tokens = map { ($t->token(account => 'acct1'))[1] } 1 .. 5;
is($t->bearer('/gif', $tokens[0])->{status}, 200, 'warm: 200');

my @reqs = map {
    PitModule::request_text('/gif', Authorization => "Bearer $tokens[$_ % 5]")
} 0 .. $N - 1;
my $t0 = time;
my @st = PitModule::concurrent($t->port, \@reqs, timeout => 30);
my $dt = time - $t0;
my %count;
$count{$_}++ for @st;
is($count{200} // 0, $N, "$N concurrent requests: all 200 ("
   . join(', ', map { "$_: $count{$_}" } sort keys %count) . ")");
diag(sprintf('%d concurrent requests in %.0f ms', $N, $dt * 1000));

# again with Redis frozen for 0.5 s: every GET queues on the one
# connection, then 1,000 replies (> 16 kB, several reads) arrive at once
kill 'STOP', $t->redis->pid;
my $pid = fork // die;
if ($pid == 0) {
    Time::HiRes::sleep(0.5);
    kill 'CONT', $t->redis->pid;
    POSIX::_exit(0);
}
$t0 = time;
@st = PitModule::concurrent($t->port, \@reqs, timeout => 30);
$dt = time - $t0;
waitpid $pid, 0;
%count = ();
$count{$_}++ for @st;
is($count{200} // 0, $N, "$N requests queued behind a frozen Redis: all 200 ("
   . join(', ', map { "$_: $count{$_}" } sort keys %count) . ")");
cmp_ok($dt, '>=', 0.4, sprintf('they waited for Redis (%.0f ms)',
                               $dt * 1000));

my @clients = grep { /\bcmd=/ && !/\bcmd=client/ }
              split /\n/, $t->redis->raw('CLIENT', 'LIST');
is(scalar @clients, 1, 'one Redis connection from the worker')
    or diag join "\n", @clients;
like($clients[0] // '', qr/\bcmd=get\b/, 'and it ran GET');


done_testing();
