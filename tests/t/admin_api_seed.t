#!/usr/bin/perl
# The admin API end to end (the seed's story, through nginx in front of
# pitctl serve): sign in with auth_basic, create, list, show, edit, rotate
# later (both tokens work at the edge), cancel, rotate again, expire now,
# rotate now, audit, delete; an admin token instead of a password; every
# documented operation called, every answer matching
# docs/admin-api.openapi.json.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use PitTest;
use PitApi;

my $t = PitApi->new(users => { alice => 'alice-pw', bob => 'bob-pw' });
my $r = $t->redis;

is(($t->pitctl(qw(admin add alice --account acct1)))[0], 0, 'admin alice');
is(($t->pitctl(qw(admin add bob --account acct2)))[0], 0, 'admin bob');

sub edge {
    my ($token) = @_;
    return $t->front->bearer('/edge/contacts', $token)->{status};
}

my $res = $t->call(GET => '/healthz');
is $res->{status}, 200, 'healthz without identity';

$res = $t->call(GET => '/api/v1/me');
is $res->{status}, 401, 'no password: nginx says 401';

$res = $t->call(GET => '/api/v1/me', user => 'alice', password => 'wrong');
is $res->{status}, 401, 'wrong password: 401';

$res = $t->call(GET => '/api/v1/me', user => 'alice');
is $res->{status}, 200, 'me';
is $res->{json}{name}, 'alice', 'me: alice';
is_deeply $res->{json}{accounts}, ['acct1'], 'me: her accounts';

$res = $t->call(GET => '/api/v1/scopes', user => 'alice');
is $res->{status}, 200, 'scopes';
ok((grep { $_->{name} eq 'contacts.readonly' } @{ $res->{json} }),
   'scopes: the catalogue');

my $base = '/api/v1/accounts/acct1/integrations';

$res = $t->call(GET => $base, user => 'alice');
is $res->{status}, 200, 'empty list';
is_deeply $res->{json}, [], 'nothing yet';

$res = $t->call(POST => $base, user => 'alice',
                json => { name => 'My Make App1',
                          description => 'Sync contacts',
                          scopes => ['contacts.readonly'] });
is $res->{status}, 201, 'create';
my $id = $res->{json}{id};
my $tok1 = $res->{json}{token};
like $tok1, qr/^pit-[0-9a-f]{8}-/, 'create: the token, once';
is PitTest::HTTP::header($res, 'Cache-Control'), 'no-store',
   'create: Cache-Control: no-store';
is PitTest::HTTP::header($res, 'Location'), "$base/$id", 'create: Location';
is $res->{json}{created_by}, 'alice', 'created by the admin';
is edge($tok1), 200, 'the new token works at the edge';

$res = $t->call(GET => $base, user => 'alice');
is scalar @{ $res->{json} }, 1, 'list: one';
ok !exists $res->{json}[0]{token}, 'list: no token';

$res = $t->call(GET => "$base/$id", user => 'alice');
is $res->{status}, 200, 'show';
my $etag = PitTest::HTTP::header($res, 'ETag');
like $etag, qr/^"[0-9a-f]{32}"$/, 'show: ETag';
like $res->{json}{tokens}[0]{hint}, qr/^pit-\w{4}\*{4}/, 'show: a hint';

$res = $t->call(PATCH => "$base/$id", user => 'alice',
                headers => ['If-Match' => $etag],
                json => { name => 'My Make App', description => 'Sync',
                          scopes => ['contacts.readonly',
                                     'contacts.write'] });
is $res->{status}, 200, 'edit';
is $res->{json}{name}, 'My Make App', 'edit: the name';
isnt PitTest::HTTP::header($res, 'ETag'), $etag, 'edit: a new ETag';
is edge($tok1), 200, 'edit: the token still works';

$res = $t->call(POST => "$base/$id/rotate", user => 'alice',
                json => { mode => 'later' });
is $res->{status}, 200, 'rotate later';
my $tok2 = $res->{json}{token};
is $res->{json}{state}, 'rotating', 'rotating';
is PitTest::HTTP::header($res, 'Cache-Control'), 'no-store',
   'rotate: no-store';
is edge($tok1), 200, 'during the overlap the old token works';
is edge($tok2), 200, 'and the new one';

$res = $t->call(POST => "$base/$id/rotate", user => 'alice',
                json => { mode => 'later' });
is $res->{status}, 409, 'rotate later twice: 409';
is $res->{json}{code}, 'rotation_state', '409: rotation_state';

$res = $t->call(POST => "$base/$id/cancel-rotation", user => 'alice',
                json => {});
is $res->{status}, 200, 'cancel rotation';
isnt edge($tok2), 200, 'cancel: the next token no longer works';
is edge($tok1), 200, 'cancel: the old one is primary again';

$res = $t->call(POST => "$base/$id/cancel-rotation", user => 'alice');
is $res->{status}, 415, 'cancel without a JSON content type: 415';

$res = $t->call(POST => "$base/$id/rotate", user => 'alice',
                json => { mode => 'later', overlap => '1d' });
is $res->{status}, 200, 'rotate later, 1d';
my $tok3 = $res->{json}{token};
my $left = $res->{json}{rotation}{deadline} - $res->{json}{rotation}{started_at};
is $left, 86400000, 'overlap 1 day';

$res = $t->call(POST => "$base/$id/expire-now", user => 'alice', body => '',
                ctype => 'application/json');
is $res->{status}, 200, 'expire now (empty body)';
isnt edge($tok1), 200, 'expire now: the old token is gone';
is edge($tok3), 200, 'expire now: the new one is primary';

$res = $t->call(POST => "$base/$id/rotate", user => 'alice',
                json => { mode => 'now' });
is $res->{status}, 200, 'rotate now';
my $tok4 = $res->{json}{token};
isnt edge($tok3), 200, 'rotate now: the old token revoked at once';
is edge($tok4), 200, 'rotate now: the new one works';

$res = $t->call(GET => '/api/v1/accounts/acct1/audit?limit=20', user => 'alice');
is $res->{status}, 200, 'audit';
my @acts = map { $_->{action} } @{ $res->{json} };
is_deeply [ reverse @acts ],
    [qw(create edit rotate-later cancel-rotation rotate-later expire-now
        rotate-now)], 'audit: every change, in order';
ok !(grep { $_->{who} ne 'alice' } @{ $res->{json} }), 'audit: who = alice';
ok !(grep { $_->{peer} ne '127.0.0.2' } @{ $res->{json} }),
   'audit: peer = the front proxy\'s address';
my (undef, $aud) = $t->pitctl(qw(--json audit --account acct1 --limit 1));
like $aud, qr/"peer"\s*:\s*"127\.0\.0\.2"/, 'pitctl audit --json: the peer';

# a machine client: an admin token, through nginx without a password
my ($rc, $out) = $t->pitctl(qw(--json admin token alice));
is $rc, 0, 'pitctl admin token';
my ($pat) = $out =~ /"token"\s*:\s*"(pat-[^"]+)"/;
ok $pat, 'a pat- token';
$res = $t->call(GET => $base, token => $pat);
is $res->{status}, 200, 'admin token: list through nginx';
$res = $t->call(GET => '/api/v1/me', token => $pat);
is $res->{json}{name}, 'alice', 'admin token: names alice';
ok !grep({ /$pat/ } $r->dump_all), 'the admin token is not in Redis';
($rc) = $t->pitctl(qw(admin token-revoke alice));
is $rc, 0, 'revoke';
$res = $t->call(GET => $base, token => $pat);
is $res->{status}, 401, 'revoked admin token: 401';

$res = $t->call(DELETE => "$base/$id", user => 'alice');
is $res->{status}, 204, 'delete';
isnt edge($tok4), 200, 'delete: the token no longer works';
$res = $t->call(GET => "$base/$id", user => 'alice');
is $res->{status}, 404, 'deleted: 404';

is_deeply [ PitTest::Pitctl::integrity($r) ], [], 'Redis consistent';

# secrets: never in the access log nor on stderr
my $logs = $t->access_log . $t->serve_err . $t->front->nginx->error_log
           . PitTest::slurp($t->front->nginx->dir . '/logs/access.log');
for my $s ($tok1, $tok2, $tok3, $tok4, $pat, 'alice-pw') {
    ok index($logs, $s) < 0, 'no secret in the logs';
}
like $t->access_log, qr{ 127\.0\.0\.2 alice "POST /api/v1/accounts/acct1/integrations" 201 },
     'access log: peer, admin, method, path, status';

# the OpenAPI description: every operation called, every answer matching
my @missing = grep { !$t->seen->{$_} } $t->operations;
is_deeply \@missing, [], 'every documented operation was called';
is_deeply [ $t->schema_errors ], [], 'every answer matches its schema';

done_testing;
