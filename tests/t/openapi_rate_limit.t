#!/usr/bin/perl
# Per-integration rate limits with stock nginx (issue #5, part 6):
# HighLevel's "100 requests per 10 seconds per integration" is
#
#     limit_req_zone $pit_integration_id zone=per_integration:10m rate=10r/s;
#     limit_req zone=per_integration burst=99 nodelay;
#
# in a location reached after the access phase (limit_req runs in the
# preaccess phase, before pit_auth has found the integration), here a named
# location entered by try_files.  100 quick requests of one integration
# pass, the 101st gets 429, and another integration is unaffected.  The
# README's error_page recipe makes the 429 JSON in HighLevel's form, with
# Retry-After, like every other refusal.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use File::Temp ();
use PitTest;
use PitModule;

my $data = PitTest::top() . '/tests/data/highlevel';

# try_files looks for a file that is never there: in a directory the
# workers may read, so that the miss is silent
my $empty = File::Temp::tempdir(CLEANUP => 1);
chmod 0755, $empty;

my $t = PitModule->new(
    http => <<'END',
    limit_req_zone $pit_integration_id zone=per_integration:10m rate=10r/s;
END
    server => <<"END");
        add_header X-Status \$pit_auth_status always;
        location /contacts/ {
            pit_auth on;
            pit_auth_openapi $data/contacts.json;
            root $empty;
            try_files /.pit-limited \@limited;
        }
        location \@limited {
            limit_req zone=per_integration burst=99 nodelay;
            limit_req_status 429;
            error_page 429 = \@too_many;
            proxy_pass %%UP%%;
        }
        location \@too_many {
            default_type application/json;
            add_header Retry-After 1 always;
            return 429 '{"statusCode":429,"message":"Too many requests: the integration\\'s rate limit is 100 requests per 10 seconds.","error":"Too Many Requests"}\n';
        }
END

my (undef, $a) = $t->token(scopes => ['contacts.readonly'], account => 'a1');
my (undef, $b) = $t->token(scopes => ['contacts.readonly'], account => 'a1');

my $port = $t->port;
my @reqs = map { PitModule::request_text("/contacts/c$_",
                                         Authorization => "Bearer $a") }
           1 .. 101;

my $t0 = time;
my @st = PitModule::concurrent($port, \@reqs);
my $took = time - $t0;
note(sprintf "101 concurrent requests took %.1f ms", $took * 1000);
my %n;
$n{$_}++ for @st;

SKIP: {
    # 10 r/s gives one more request back every 100 ms
    skip "the burst took ${\ int($took * 1000)} ms, not quick", 2
        if $took > 0.09;
    is($n{200}, 100, '100 quick requests of one integration pass');
    is($n{429}, 1, 'the 101st gets 429');
}
is(scalar @st, 101, '101 requests answered') and
    is(($n{200} // 0) + ($n{429} // 0), 101, 'each with 200 or 429');

my $r = $t->bearer('/contacts/c1', $a);
my $since = time - $t0;
SKIP: {
    # the bucket gives one request back every 100 ms after the burst
    skip "the next request came ${\ int($since * 1000)} ms after the burst", 1
        if $since > 0.09;
    is($r->{status}, 429, 'the next one of that integration: 429');
}
# whatever the timing (a slow build, a busy machine): requests in a row,
# far above 10 per second, meet the limit
my ($tries, $limited) = (0, $r->{status} == 429);
while (!$limited && $tries++ < 300) {
    $limited = $t->bearer('/contacts/c1', $a)->{status} == 429;
}
ok($limited, "requests in a row meet the limit (after $tries more)");
{
    my $l = $r;
    my $n = 0;
    $l = $t->bearer('/contacts/c1', $a)
        until $l->{status} == 429 || $n++ > 300;
    is($l->{body}, '{"statusCode":429,"message":"Too many requests: the '
       . 'integration\'s rate limit is 100 requests per 10 seconds.",'
       . '"error":"Too Many Requests"}' . "\n", '429 in HighLevel\'s JSON form');
    is(PitTest::HTTP::header($l, 'Content-Type'), 'application/json',
       '... as application/json');
    is(PitTest::HTTP::header($l, 'Retry-After'), '1', '... with Retry-After');
}
$r = $t->bearer('/contacts/c1', $b);
is($r->{status}, 200, 'another integration is unaffected');
like($r->{body}, qr{^uri=/contacts/c1$}m, '... and reaches the upstream');

# an unauthenticated request is not counted against anyone: 401 first
$r = $t->get('/contacts/c1');
is($r->{status}, 401, 'no token: 401, not 429');


done_testing();
