#!/usr/bin/perl
# Last use (issue #4): nginx writes HSET <prefix>used:<iid> <hash> <ms> at
# most once per token per interval per instance, fire and forget; pitctl
# list and show read it back.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX qw(strftime);
use PitTest;
use PitModule;
use PitCache;

my $t = PitCache::nginx(workers => 2,
                        location => '            pit_auth_last_used on '
                                    . 'interval=1s;');
my $redis = $t->redis;

my $end = time + 5;
sleep 0.02 until (PitCache::stats($t)->{subscriber} // '') eq 'up'
                 || time > $end;

my ($id, $tok) = $t->token();
my ($id2, $tok2) = $t->token();
my $hash = PitTest::Pitctl::token_hash($tok);

my ($rc, $data) = PitTest::Pitctl::json($redis, 'show', $id);
ok(!defined $data->{tokens}[0]{last_used}, 'never used: last_used null');

# 2.5 s of load on two tokens, over both workers
my $h0 = PitCache::calls($redis, 'hset');
my $t0 = time;
my ($n, $ok) = (0, 0);
while (time - $t0 < 2.5) {
    my @st = PitModule::concurrent($t->port, [
        map { PitModule::request_text('/api/x', Authorization =>
                                       'Bearer ' . ($_ % 2 ? $tok : $tok2)) }
        1 .. 20 ]);
    $n += @st;
    $ok += grep { $_ == 200 } @st;
}
my $hsets = PitCache::calls($redis, 'hset') - $h0;
is($ok, $n, "$n requests, all 200");
ok($hsets >= 4 && $hsets <= 8, "$hsets HSETs for $n requests of 2 tokens "
   . "in 2.5 s at interval=1s (one per token per second)");
diag("last used: $hsets HSETs for $n requests (2 tokens, 2.5 s, "
     . "interval=1s)");
is(PitCache::stats($t)->{last_used_writes}, $hsets,
   'last_used_writes counts them');

my $ms = $redis->raw('HGET', "pit:used:$id", $hash);
ok($ms =~ /^\d+$/ && abs($ms / 1000 - time) < 2, "used:$id holds ${ms}");
unlike(join(' ', $redis->raw_list('HKEYS', "pit:used:$id")), qr/\Q$tok\E/,
       'the field is the hash, never the token');

# pitctl reads it back
($rc, $data) = PitTest::Pitctl::json($redis, 'show', $id);
is($rc, 0, 'pitctl show');
ok(defined $data->{tokens}[0]{last_used}, 'show: the token has a last use: '
   . ($data->{tokens}[0]{last_used} // 'null'));
ok(defined $data->{last_used}, 'show: the integration has a last use');

my ($lrc, $list) = PitTest::Pitctl::json($redis, 'list');
my ($row) = grep { $_->{id} eq $id } @{ ref $list eq 'ARRAY' ? $list
                                        : $list->{integrations} // [] };
ok($row && defined $row->{last_used}, 'list: Last Used filled');

my ($src, $out) = $t->pitctl('show', $id);
my $today = strftime('%Y-%m-%d', gmtime);
like($out, qr/last used (?!never)\S/, "pitctl show (human): a last use")
    or diag $out;

# no HSET for refused tokens
$h0 = PitCache::calls($redis, 'hset');
$t->bearer('/api/x', PitCache::random_token()) for 1 .. 5;
is(PitCache::calls($redis, 'hset') - $h0, 0, 'unknown tokens: no HSET');

done_testing();
