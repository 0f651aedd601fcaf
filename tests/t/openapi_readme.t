#!/usr/bin/perl
# The README's example for pit_auth_openapi ("Enforcing scopes from your
# OpenAPI spec"), with test paths: strip_prefix, the account from the
# query, the rate limit after the access phase, the prefix rewritten away
# before the upstream, and the log format with $pit_route and
# $pit_required_scope.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp ();
use PitTest;
use PitModule;

my $data = PitTest::top() . '/tests/data/highlevel';

my $t = PitModule->new(http => <<'END', server => <<"END2");
    limit_req_zone $pit_integration_id zone=per_integration:10m rate=10r/s;

    log_format pit '$remote_addr $pit_integration_id $pit_token_hint '
                   '"$request_method $uri" route="$pit_route" '
                   'needs="$pit_required_scope" $pit_auth_status $status';
END
        access_log %%DIR%%/logs/api.log pit;

        location /api/ {
            pit_auth on;
            pit_auth_openapi $data/contacts.json
                             $data/calendars.json
                             $data/conversations.json
                             strip_prefix=/api;
            pit_auth_account \$arg_locationId;

            root /var/empty;
            try_files /.pit-rate-limit \@api;
        }

        location \@api {
            limit_req zone=per_integration burst=99 nodelay;
            limit_req_status 429;
            rewrite ^/api(/.*)\$ \$1 break;
            proxy_pass %%UP%%;
        }
END2

my ($iid, $tok) = $t->token(account => 'loc1',
                            scopes => ['contacts.readonly']);

my $r = $t->bearer('/api/contacts/c1/tasks?locationId=loc1', $tok);
is($r->{status}, 200, 'allowed');
like($r->{body}, qr{^uri=/contacts/c1/tasks$}m,
     'the upstream sees the path without the prefix');
like($r->{body}, qr{^X-Pit-Integration-Id=\Q$iid\E$}m, '... annotated');

$r = $t->bearer('/api/contacts/c1/tasks?locationId=loc2', $tok);
is($r->{status}, 403, 'another location: 403');
like($r->{body}, qr/The token does not have access to this location/,
     '... says so');

$r = PitTest::HTTP::request($t->port, 'POST /api/contacts/c1/tasks'
                            . '?locationId=loc1',
                            headers => [Authorization => "Bearer $tok"]);
is($r->{status}, 403, 'POST needs contacts.write');
is(PitTest::HTTP::header($r, 'WWW-Authenticate'),
   'Bearer realm="api", error="insufficient_scope", scope="contacts.write"',
   '... and says so');

$r = $t->bearer('/api/nothing?locationId=loc1', $tok);
is($r->{status}, 403, 'no such route: 403');

my @st = map { $t->bearer('/api/contacts/c1?locationId=loc1', $tok)->{status} }
         1 .. 5;
is_deeply(\@st, [(200) x 5], 'a few more requests pass the rate limit');


$t->nginx->stop;
my $log = PitTest::slurp($t->nginx->dir . '/logs/api.log');
like($log, qr{ \Q$iid\E pit-\w{4}\*{4}-\*{4}-\*{4}-\*{4}\w{4} "GET /contacts/c1/tasks" route="/contacts/\{contactId\}/tasks" needs="contacts\.readonly" ok 200$}m,
     'the access log line names the route and the scope it needs '
     . '(and $uri as rewritten for the upstream)');
like($log, qr{"GET /api/nothing" route="-" needs="-" no_route 403$}m,
     '... and "-" when there is no route');

done_testing();
