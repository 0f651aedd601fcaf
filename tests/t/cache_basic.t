#!/usr/bin/perl
# The shared-memory cache (issue #4): one GET for many requests across
# workers, negative entries, changes made by hand, counters, the size of an
# entry, and a reload that keeps the zone.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;
use PitCache;

# reuseport: one listening socket per worker, the kernel spreads new
# connections over them by their addresses, so requests reach both workers
# (without it, an idle nginx may hand every connection to the same one)
my $t = PitCache::nginx(zone => 'zone=auth:1m negative_ttl=1s', workers => 2,
                        listen_opts => 'reuseport');
my $redis = $t->redis;

# the subscriber is up before anything is measured
my $end = time + 5;
sleep 0.05 until (PitCache::stats($t)->{subscriber} // '') eq 'up'
                 || time > $end;
is(PitCache::stats($t)->{subscriber}, 'up', 'subscriber up');

my ($id, $tok) = $t->token(account => 'acct1', scopes => ['contacts.readonly']);

# one token, many requests over many connections: one GET
my $get0 = PitCache::calls($redis, 'get');
my %pids;
my $ok = 0;
$ok++ if $t->bearer('/api/x', $tok)->{status} == 200;
for my $round (1 .. 10) {
    my @st = PitModule::concurrent($t->port, [
        map { PitModule::request_text('/api/x', Authorization =>
                                       "Bearer $tok") } 1 .. 20 ]);
    $ok += grep { $_ == 200 } @st;
}
for (1 .. 20) {
    my $r = $t->bearer('/api/x', $tok);
    $ok++ if $r->{status} == 200;
    $pids{ PitTest::HTTP::header($r, 'X-Pid') // 0 } = 1;
}
is($ok, 221, '221 requests, all 200');
is(PitCache::calls($redis, 'get') - $get0, 1, '221 requests cost one GET');
my $s = PitCache::stats($t);
is($s->{entries}, 1, 'one entry');
ok($s->{hits} >= 220, "hits: $s->{hits}");
is($s->{misses}, 1, 'one miss');
# each new connection goes to either worker (1 in 2): up to 200 more
# requests until both have answered, then both must have
for (1 .. 200) {
    last if keys %pids >= 2;
    my $r = $t->bearer('/api/x', $tok);
    $pids{ PitTest::HTTP::header($r, 'X-Pid') // 0 } = 1
        if $r->{status} == 200;
}
is(PitCache::stats($t)->{entries}, 1, 'still one entry');
ok(keys %pids >= 2, 'several workers shared the zone: '
   . join(',', sort keys %pids));

# unknown tokens: a negative entry for negative_ttl
my $unknown = PitCache::random_token();
$get0 = PitCache::calls($redis, 'get');
is($t->bearer('/api/x', $unknown)->{status}, 401, 'unknown: 401') for 1 .. 5;
is(PitCache::calls($redis, 'get') - $get0, 1, 'five unknowns: one GET');
ok(PitCache::stats($t)->{negative_hits} >= 4, 'negative hits counted');
sleep 1.1;
$t->bearer('/api/x', $unknown);
is(PitCache::calls($redis, 'get') - $get0, 2, 'negative entry expired');

# the same token written into Redis by hand: the negative entry goes at once
my ($hand) = PitCache::hand_tokens($redis, 1);
is($t->bearer('/api/x', $hand)->{status}, 200, 'token set by hand: 200');
$redis->cmd('DEL', PitTest::Pitctl::token_key($hand));
my $t0 = time;
my ($lat, $sent) = PitCache::time_to_refusal($t, $hand, $t0);
ok(defined $sent && $sent < 0.1, 'DEL by hand: refused after '
   . PitCache::ms($lat));

# a nil invalidation (FLUSHALL) empties the zone
$t->bearer('/api/x', $tok);
my $f0 = PitCache::stats($t)->{flushes};
$redis->cmd('FLUSHALL');
$end = time + 2;
sleep 0.01 until PitCache::stats($t)->{flushes} > $f0 || time > $end;
$s = PitCache::stats($t);
is($s->{flushes}, $f0 + 1, 'FLUSHALL flushed the zone');
is($s->{entries}, 0, 'zone empty');
is($t->bearer('/api/x', $tok)->{status}, 401, 'flushed token: 401');

# size of an entry: 1,000 tokens, zone bytes per token
my $i0 = PitCache::stats($t)->{invalidations};
my @many = PitCache::hand_tokens($redis, 1000,
                                 scopes => ['contacts.readonly']);
$end = time + 5;
sleep 0.02 until PitCache::stats($t)->{invalidations} >= $i0 + 1000
                 || time > $end;
my $free0 = PitCache::stats($t)->{free};
my $e0 = PitCache::stats($t)->{stores};
for (my $i = 0; $i < @many; $i += 100) {
    my @st = PitModule::concurrent($t->port, [
        map { PitModule::request_text('/api/x', Authorization =>
                                       "Bearer $_") }
        @many[$i .. $i + 99] ]);
    is(scalar(grep { $_ == 200 } @st), 100, "batch $i: 100 x 200")
        or last;
}
$s = PitCache::stats($t);
# (an expired entry may leave meanwhile: stores are counted, not entries)
my $n = $s->{stores} - $e0;
is($n, 1000, '1,000 entries stored');
my $per = ($free0 - $s->{free}) / ($n || 1);
ok($per <= 256, "zone bytes per cached token: $per");
diag("zone bytes per cached token: $per");

# scopes come back from the zone as they went in: catalogue scopes as
# bits, others by name
my @sc = qw(contacts.readonly calendars/events.write blogs/author.readonly
            workflows.readonly x.custom-scope zz.unknown);
my ($sid, $stok) = $t->token(scopes => \@sc,
                             extra => ['--allow-unknown-scope']);
my $want = join ' ', sort @sc;
my $miss = PitModule::echoed($t->bearer('/api/x', $stok))->{'x-pit-scopes'};
my $hit = PitModule::echoed($t->bearer('/api/x', $stok))->{'x-pit-scopes'};
is($miss, $want, 'scopes from Redis');
is($hit, $want, 'the same scopes from the zone');

# ten catalogue scopes still fit in 256 zone bytes
my @ten = qw(contacts.readonly contacts.write calendars.readonly
             calendars.write calendars/events.readonly calendars/events.write
             conversations.readonly conversations.write opportunities.readonly
             opportunities.write);
my $i1 = PitCache::stats($t)->{invalidations};
my @ten_tok = PitCache::hand_tokens($redis, 400, scopes => \@ten,
                                    account => 'a' x 64);
$end = time + 5;
sleep 0.02 until PitCache::stats($t)->{invalidations} >= $i1 + 400
                 || time > $end;
$free0 = PitCache::stats($t)->{free};
$e0 = PitCache::stats($t)->{stores};
my @st;
for (my $i = 0; $i < @ten_tok; $i += 100) {
    push @st, PitModule::concurrent($t->port, [
        map { PitModule::request_text('/api/x', Authorization =>
                                       "Bearer $_") }
        @ten_tok[$i .. $i + 99] ]);
}
is(scalar(grep { $_ == 200 } @st), 400, 'ten-scope tokens: 200');
$s = PitCache::stats($t);
$n = $s->{stores} - $e0;
is($n, 400, '400 entries stored');
$per = ($free0 - $s->{free}) / ($n || 1);
ok($per <= 256, "zone bytes per token with 10 scopes and a 64-byte "
   . "account: $per");
diag("zone bytes per token with 10 scopes and a 64-byte account: $per");
$s = PitCache::stats($t);

# reload: the zone and its entries survive, no GET is needed afterwards
my $before = $s->{entries};
$t->nginx->reload;
sleep 0.5;
$end = time + 5;
sleep 0.05 until (PitCache::stats($t)->{subscriber} // '') eq 'up'
                 || time > $end;
$s = PitCache::stats($t);
is($s->{entries}, $before, "reload kept $before entries");
$get0 = PitCache::calls($redis, 'get');
is($t->bearer('/api/x', $many[0])->{status}, 200, 'after reload: 200');
is(PitCache::calls($redis, 'get') - $get0, 0, 'after reload: no GET')
    or diag(explain(PitCache::stats($t)), $t->error_log =~ s/^.*\] \d+#\d+: \*?\d* ?//mgr);

# a reload that points the zone at another store flushes it
my $conf = PitTest::slurp($t->nginx->conf);
$conf =~ s/(pit_auth_cache [^;]*;)/$1\n    pit_auth_key_prefix other:;/;
open my $fh, '>', $t->nginx->conf or die;
print $fh $conf;
close $fh;
my $f0 = PitCache::stats($t)->{flushes};
$t->nginx->reload;
$end = time + 5;
sleep 0.05 until PitCache::stats($t)->{flushes} > $f0 || time > $end;
is(PitCache::stats($t)->{entries}, 0, 'reload with another prefix: flushed');

done_testing();
