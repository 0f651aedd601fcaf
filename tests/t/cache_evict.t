#!/usr/bin/perl
# A tiny zone and thousands of distinct tokens (issue #4): the least
# recently used entries are evicted, every answer stays right, nothing is
# logged at [alert] or [crit] (the slab's "no memory" is silenced).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use List::Util qw(shuffle);
use PitTest;
use PitModule;
use PitCache;

my $t = PitCache::nginx(zone => 'zone=tiny:32k', workers => 2);
my $redis = $t->redis;

my $end = time + 5;
sleep 0.02 until (PitCache::stats($t, 'tiny')->{subscriber} // '') eq 'up'
                 || time > $end;

my $i0 = PitCache::stats($t, 'tiny')->{invalidations};
my @good = PitCache::hand_tokens($redis, 2000);
my @scope = PitCache::hand_tokens($redis, 500, scopes => ['contacts.write']);
my @unknown = map { PitCache::random_token() } 1 .. 500;
$end = time + 5;
sleep 0.02 until PitCache::stats($t, 'tiny')->{invalidations} >= $i0 + 2500
                 || time > $end;

my %want = ((map { $_ => 200 } @good), (map { $_ => 403 } @scope),
            (map { $_ => 401 } @unknown));
my @all = keys %want;

my ($n, $wrong) = (0, 0);
for my $pass (1 .. 2) {
    my @order = shuffle @all;
    while (my @batch = splice @order, 0, 100) {
        my @st = PitModule::concurrent($t->port, [
            map { PitModule::request_text('/api/x', Authorization =>
                                           "Bearer $_") } @batch ]);
        for my $k (0 .. $#batch) {
            $n++;
            $wrong++ if $st[$k] != $want{ $batch[$k] };
        }
    }
}
is($wrong, 0, "$n requests over 3,000 tokens, every answer right");

my $s = PitCache::stats($t, 'tiny');
ok($s->{evictions} > 1000, "evictions counted: $s->{evictions}");
ok($s->{entries} > 10 && $s->{entries} < 200,
   "entries bounded by the zone: $s->{entries}");
diag("32k zone: $s->{entries} entries, $s->{evictions} evictions, "
     . "$s->{hits} hits, $s->{misses} misses");

# the hottest token stays cached
my $get0 = PitCache::calls($redis, 'get');
$t->bearer('/api/x', $good[0]) for 1 .. 50;
ok(PitCache::calls($redis, 'get') - $get0 <= 1, 'a hot token stays cached');

unlike($t->error_log, qr/no memory/, 'no "no memory" line');
done_testing();
