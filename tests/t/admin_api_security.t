#!/usr/bin/perl
# The admin API's permission matrix and request guards: an admin of
# account A on every route of account B (403), an admin whose private
# integrations are not allowed (403), an unknown user (401), the identity
# header from a peer that is not the trusted proxy (401), an id of B under
# A's path (404, before anything else), CSRF (Origin, Cookie), 415, the
# issuing limit (429 with Retry-After), and no secret in any log.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use PitTest;
use PitApi;

my $t = PitApi->new(users => { alice => 'a-pw', bob => 'b-pw',
                               carol => 'c-pw', mallory => 'm-pw',
                               root => 'r-pw' },
                    serve_args => ['--issue-rate', '3']);
my $r = $t->redis;

$t->pitctl(qw(admin add alice --account acct1));
$t->pitctl(qw(admin add bob --account acct2));
$t->pitctl(qw(admin add carol --account acct1 --deny));
$t->pitctl(qw(admin add root --all-accounts));
# mallory has a password at the proxy but no admin record

my $res = $t->call(POST => '/api/v1/accounts/acct2/integrations', user => 'bob',
                   json => { name => 'B app', scopes => ['contacts.readonly'] });
is $res->{status}, 201, 'bob creates in acct2';
my $bid = $res->{json}{id};
$res = $t->call(POST => '/api/v1/accounts/acct1/integrations', user => 'alice',
                json => { name => 'A app', scopes => ['contacts.readonly'] });
my $aid = $res->{json}{id};
ok $aid, 'alice creates in acct1';

my @routes = (
    [GET => '/api/v1/accounts/%s/integrations'],
    [POST => '/api/v1/accounts/%s/integrations',
     { name => 'x', scopes => ['contacts.readonly'] }],
    [GET => '/api/v1/accounts/%s/integrations/%i'],
    [PATCH => '/api/v1/accounts/%s/integrations/%i', { name => 'y' }],
    [DELETE => '/api/v1/accounts/%s/integrations/%i'],
    [POST => '/api/v1/accounts/%s/integrations/%i/rotate', { mode => 'now' }],
    [POST => '/api/v1/accounts/%s/integrations/%i/cancel-rotation', {}],
    [POST => '/api/v1/accounts/%s/integrations/%i/expire-now', {}],
    [GET => '/api/v1/accounts/%s/audit'],
);

sub path { my ($p, $acct, $id) = @_; $p =~ s/%s/$acct/; $p =~ s/%i/$id/; $p }

my $before = $r->dump_all;

for my $rt (@routes) {
    my ($m, $p, $body) = @$rt;
    my @b = $body ? (json => $body) : ();
    my $path = path($p, 'acct2', $bid);
    is $t->call($m => $path, user => 'alice', @b)->{status}, 403,
       "admin of acct1 on $m $p of acct2: 403";
    is $t->call($m => path($p, 'acct1', $aid), user => 'carol', @b)
         ->{status}, 403, "not allowed private integrations: $m $p: 403";
    is $t->call($m => $path, user => 'mallory', @b)->{status}, 401,
       "unknown user: $m $p: 401";
    is $t->call($m => $path, direct => 1,
                headers => ['X-Remote-User' => 'bob'], @b)->{status}, 401,
       "identity header from 127.0.0.1 (untrusted): $m $p: 401";
}

for my $rt (grep { $_->[1] =~ /%i/ } @routes) {
    my ($m, $p, $body) = @$rt;
    my @b = $body ? (json => $body) : ();
    my $res = $t->call($m => path($p, 'acct1', $bid), user => 'alice', @b);
    is $res->{status}, 404, "an id of acct2 under acct1: $m $p: 404";
    # even a body that would be refused: the account comes first
    $res = $t->call($m => path($p, 'acct1', $bid), user => 'alice',
                    body => '{"x":', ctype => 'application/json')
        if $m ne 'GET' && $m ne 'DELETE';
    is $res->{status}, 404, "  and with a broken body: 404";
}

is $r->dump_all, $before, 'nothing changed by any refused request';

is $t->call(GET => '/api/v1/me', user => 'carol')->{status}, 200,
   'a denied admin may still ask who it is';
is $t->call(GET => path('/api/v1/accounts/%s/integrations/%i', 'acct2', $bid),
            user => 'root')->{status}, 200, 'an admin of all accounts';

# the seed's switch from the command line: admin allow / admin deny
is(($t->pitctl(qw(admin allow carol)))[0], 0, 'pitctl admin allow carol');
is $t->call(GET => '/api/v1/accounts/acct1/integrations', user => 'carol')
     ->{status}, 200, 'allowed: carol lists acct1';
is(($t->pitctl(qw(admin deny carol)))[0], 0, 'pitctl admin deny carol');
$res = $t->call(GET => '/api/v1/accounts/acct1/integrations', user => 'carol');
is $res->{status}, 403, 'denied again: 403';
is $res->{json}{error}, 'Forbidden', '  error Forbidden';
my (undef, $aud) = $t->pitctl(qw(--json audit --limit 2));
like $aud, qr/"action"\s*:\s*"admin-deny".*"action"\s*:\s*"admin-allow"/s,
     'admin allow and deny are in the audit stream';
is(($t->pitctl(qw(admin allow nobody)))[0], 2, 'admin allow: no such '
   . 'admin, exit 2');

# the identity header through nginx cannot be forged by the client
$res = $t->call(GET => '/api/v1/accounts/acct2/integrations', user => 'alice',
                headers => ['X-Remote-User' => 'bob']);
is $res->{status}, 403, 'a forged X-Remote-User is replaced by nginx';

# CSRF
my $p = '/api/v1/accounts/acct1/integrations';
my $host = 'localhost';
$res = $t->call(POST => $p, user => 'alice',
                headers => [Origin => 'https://evil.example'],
                json => { name => 'csrf', scopes => ['contacts.readonly'] });
is $res->{status}, 403, 'a change from another Origin: 403';
$res = $t->call(POST => $p, user => 'alice', headers => [Cookie => 's=1'],
                json => { name => 'csrf', scopes => ['contacts.readonly'] });
is $res->{status}, 403, 'a change with a Cookie and no Origin: 403';
$res = $t->call(DELETE => "$p/$aid", user => 'alice',
                headers => [Origin => 'http://evil.example']);
is $res->{status}, 403, 'a DELETE from another Origin: 403';
$res = $t->call(GET => $p, user => 'alice',
                headers => [Origin => 'https://evil.example']);
is $res->{status}, 200, 'reads are not changes';
$res = $t->call(POST => $p, user => 'alice', body => 'name=x',
                ctype => 'application/x-www-form-urlencoded');
is $res->{status}, 415, 'a form body: 415';
$res = $t->call(POST => $p, user => 'alice', body => '{}',
                ctype => 'text/plain');
is $res->{status}, 415, 'text/plain: 415';
$res = $t->call(POST => $p, user => 'alice',
                headers => [Origin => "http://$host"],
                json => { name => 'same origin', scopes => ['contacts.readonly'] });
is $res->{status}, 201, 'a change from the same origin: 201';

# the issuing limit: 3 a minute here (alice made 2 already)
$res = $t->call(POST => "$p/$aid/rotate", user => 'alice',
                json => { mode => 'now' });
is $res->{status}, 200, 'third token of the minute';
$res = $t->call(POST => "$p/$aid/rotate", user => 'alice',
                json => { mode => 'now' });
is $res->{status}, 429, 'fourth: 429';
like PitTest::HTTP::header($res, 'Retry-After'), qr/^\d+$/, 'Retry-After';
is $res->{json}{code}, 'rate_limited', 'code rate_limited';
$res = $t->call(POST => '/api/v1/accounts/acct2/integrations', user => 'bob',
                json => { name => 'B2', scopes => ['contacts.readonly'] });
is $res->{status}, 201, 'another admin has its own bucket';
$res = $t->call(PATCH => "$p/$aid", user => 'alice', json => { name => 'n' });
is $res->{status}, 200, 'edits are not limited';

# secrets stay out of every log
my $logs = $t->access_log . $t->serve_err . $t->front->nginx->error_log
           . PitTest::slurp($t->front->nginx->dir . '/logs/access.log');
my @toks = $r->dump_all =~ /(pit-[0-9a-f-]{36})/g;
is scalar @toks, 0, 'no token in Redis';
ok index($logs, $_) < 0, "password $_ not logged" for qw(a-pw b-pw m-pw);
unlike $logs, qr/pit-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/,
       'no token in any log';
$res = $t->call(GET => '/api/v1/accounts/acct1/integrations/pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe762',
                user => 'alice');
is $res->{status}, 404, 'a token pasted into a path: 404';
like $t->access_log, qr{integrations/pit-6490\*{4}-\*{4}-\*{4}-\*{4}-\*{8}e762"},
     'and masked in the access log';
unlike $t->access_log, qr{6490a1b2}, 'not in clear';

is_deeply [ $t->schema_errors ], [], 'every answer matches its schema';
done_testing;
