#!/usr/bin/perl
# With Redis down, connect failures are logged at most once per backend
# and second for all workers of one nginx, and the line says how many
# similar lines it stands for; pit_auth_stats counts the lines left out.
# Two workers and a cache zone's subscriber, all pointed at a closed port,
# would otherwise write some three lines a second.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;

my $closed = PitTest::free_port();
my $t0 = time;
my $t = PitModule->new(workers => 2, server => <<"END");
        location /api/ {
            pit_auth on;
            pit_auth_redis 127.0.0.1:$closed;
            pit_auth_cache zone=auth:1m;
            proxy_pass %%UP%%;
        }
        location = /stats {
            pit_auth_stats;
        }
END

sleep 3.5;
my $stats = JSON::PP->new->decode($t->get('/stats')->{body});
my $elapsed = time - $t0;

my @lines = grep { /pit_auth: redis 127\.0\.0\.1:$closed: connect failed/ }
            split /\n/, $t->error_log;
my %per_second;
$per_second{$_}++ for map { /^(\S+ \S+)/ } @lines;

ok(@lines >= 2, scalar(@lines) . ' connect failures logged');
cmp_ok(scalar @lines, '<=', int($elapsed) + 2,
       sprintf('at most one a second in %.1f s (+1)', $elapsed))
    or diag join "\n", @lines;
my @twice = grep { $per_second{$_} > 1 } sort keys %per_second;
is_deeply(\@twice, [], 'never two in the same second') or diag join "\n", @lines;

my @counted = map { /, (\d+) similar lines suppressed$/ ? $1 : () } @lines;
ok(@counted, 'a line says how many were suppressed') or diag join "\n", @lines;
ok(!grep({ $_ == 0 } @counted), 'never "0 similar lines"');

my $sum = 0;
$sum += $_ for @counted;
cmp_ok($stats->{log_suppressed}, '>', 0,
       "stats: log_suppressed $stats->{log_suppressed}");
cmp_ok($stats->{log_suppressed}, '>=', $sum,
       "stats count every line the log says was left out ($sum)");

is($t->get('/api/x', Authorization => 'Bearer pit-00000000-0000-4000-8000-'
                                      . '000000000000')->{status},
   503, 'requests meanwhile: 503');
is_deeply([$t->bad_log_lines], [], 'no [alert], [crit] or [emerg]');

done_testing();
