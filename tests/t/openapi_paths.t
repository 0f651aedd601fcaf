#!/usr/bin/perl
# pit_auth_openapi and nginx's normalized $uri (issue #5, parts 2 and 5):
# trailing slash, //, /./, /../, percent-encoding, encoded slashes, query
# strings, unknown methods, HEAD, very long paths; unmatched routes
# (denied, or allowed), strip_prefix, pit_auth_scope adding requirements,
# $pit_route / $pit_required_scope, and nginx -t on bad specs.
# The locations that show how the trie reads nginx's normalized $uri turn
# the refusal of ambiguous raw paths off (pit_auth_ambiguous_path allow);
# security_raw_path.t tests that refusal, which is the default.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use PitTest;
use PitModule;

my $data = PitTest::top() . '/tests/data/highlevel';
my $raw = PitTest::free_port();

# An upstream that shows what it received: method, request line URI, $uri.
my $t = PitModule->new(http => <<"END", server => <<"END2");
    server {
        listen 127.0.0.1:$raw;
        location / {
            return 200 "method=\$request_method\\nrequest_uri=\$request_uri\\nuri=\$uri\\n";
        }
    }
END
        add_header X-Status \$pit_auth_status always;
        add_header X-Route \$pit_route always;
        add_header X-Required \$pit_required_scope always;
        location / {
            pit_auth on;
            pit_auth_ambiguous_path allow;
            pit_auth_openapi $data/contacts.json $data/calendars.json
                             $data/conversations.json;
            proxy_pass http://127.0.0.1:$raw;
        }
        location /norm/ {
            pit_auth on;
            pit_auth_ambiguous_path allow;
            pit_auth_openapi $data/contacts.json strip_prefix=/norm;
            proxy_pass http://127.0.0.1:$raw/;
        }
        location /api/ {
            pit_auth on;
            pit_auth_openapi $data/contacts.json strip_prefix=/api/
                             unmatched=deny;
            proxy_pass http://127.0.0.1:$raw;
        }
        location /allow/ {
            pit_auth on;
            pit_auth_openapi $data/contacts.json strip_prefix=/allow
                             unmatched=allow;
            proxy_pass http://127.0.0.1:$raw;
        }
        location /both/ {
            pit_auth on;
            pit_auth_openapi $data/contacts.json strip_prefix=/both;
            pit_auth_scope contacts.write;
            proxy_pass http://127.0.0.1:$raw;
        }
        location /custom/ {
            pit_auth on;
            pit_auth_openapi $data/contacts.json strip_prefix=/custom;
            error_page 403 = \@denied;
            proxy_pass http://127.0.0.1:$raw;
        }
        location \@denied {
            return 418 "denied: \$pit_auth_status\\n";
        }
END2

my (undef, $r_) = $t->token(scopes => ['contacts.readonly']);
my (undef, $w_) = $t->token(scopes => ['contacts.write']);
my (undef, $rw) = $t->token(scopes => ['contacts.readonly', 'contacts.write']);
my (undef, $cal) = $t->token(scopes => ['calendars.readonly']);

sub req {
    my ($line, $tok) = @_;
    return PitTest::HTTP::request($t->port, $line,
        headers => [$tok ? (Authorization => "Bearer $tok") : ()]);
}

my $NO_ROUTE = '{"statusCode":403,"message":"No such route.",'
               . '"error":"Forbidden"}';

# (request line, token, status, route, required or missing scope, uri the
#  upstream decoded)
sub case {
    my ($name, $line, $tok, $status, $route, $scope, $uri) = @_;
    my $r = req($line, $tok);
    subtest $name => sub {
        is($r->{status}, $status, 'status');
        is(PitTest::HTTP::header($r, 'X-Route'), $route, '$pit_route');
        if ($status == 403 && defined $scope) {
            is(PitTest::HTTP::header($r, 'X-Status'), 'insufficient_scope',
               '$pit_auth_status');
            like(PitTest::HTTP::header($r, 'WWW-Authenticate') // '',
                 qr/scope="\Q$scope\E"$/, "missing $scope");
        }
        if ($status == 403 && !defined $route) {
            is(PitTest::HTTP::header($r, 'X-Status'), 'no_route',
               '$pit_auth_status');
            is($r->{body}, "$NO_ROUTE\n", 'body');
            is(PitTest::HTTP::header($r, 'Content-Type'), 'application/json',
               'JSON');
            is(PitTest::HTTP::header($r, 'WWW-Authenticate'), undef,
               'no WWW-Authenticate: the token is fine');
        }
        if ($status == 200) {
            is(PitTest::HTTP::header($r, 'X-Required'), $scope,
               '$pit_required_scope');
            like($r->{body}, qr/^uri=\Q$uri\E$/m, "upstream saw $uri")
                if defined $uri;
        }
        unlike($r->{body}, qr/^uri=/m, 'the upstream saw nothing')
            if $status != 200;
    };
    return $r;
}

my $TASKS = '/contacts/{contactId}/tasks';
my $CONTACT = '/contacts/{contactId}';

# the baseline
case('GET tasks', 'GET /contacts/c1/tasks', $r_, 200, $TASKS,
     'contacts.readonly', '/contacts/c1/tasks');
case('GET tasks, write token', 'GET /contacts/c1/tasks', $w_, 403, $TASKS,
     'contacts.readonly');
case('POST tasks', 'POST /contacts/c1/tasks', $w_, 200, $TASKS,
     'contacts.write');

# trailing slash: not significant, either way
case('trailing slash', 'GET /contacts/c1/tasks/', $r_, 200, $TASKS,
     'contacts.readonly', '/contacts/c1/tasks/');
case('trailing slash, write token', 'GET /contacts/c1/tasks/', $w_, 403,
     $TASKS, 'contacts.readonly');
case('template with a slash, request without', 'POST /contacts', $w_, 200,
     '/contacts/', 'contacts.write', '/contacts');
case('template with a slash, request without, read token', 'POST /contacts',
     $r_, 403, '/contacts/', 'contacts.write');

# //, /./ and /../ are resolved by nginx before the match
case('//', 'GET //contacts//c1///tasks', $w_, 403, $TASKS,
     'contacts.readonly');
case('// passes with the scope', 'GET //contacts//c1///tasks', $r_, 200,
     $TASKS, 'contacts.readonly', '/contacts/c1/tasks');
case('/./', 'GET /contacts/./c1/./tasks', $w_, 403, $TASKS,
     'contacts.readonly');
case('/../ into contacts from calendars', 'GET /calendars/../contacts/c1',
     $cal, 403, $CONTACT, 'contacts.readonly');
case('/../ out of a literal', 'GET /contacts/search/../c1/tasks', $r_, 200,
     $TASKS, 'contacts.readonly', '/contacts/c1/tasks');
case('encoded dot segments', 'GET /contacts/x/%2e%2e/c1/tasks', $w_, 403,
     $TASKS, 'contacts.readonly');
my $r = req('GET /../contacts/c1', $r_);
is($r->{status}, 400, '/../ above the root: nginx refuses it (400)');

# percent-encoding: matched decoded, as $uri is
case('encoded literal', 'POST /contacts/%73earch', $w_, 403,
     '/contacts/search', 'contacts.readonly');
case('encoded blank in a parameter', 'GET /contacts/a%20b', $r_, 200,
     $CONTACT, 'contacts.readonly', '/contacts/a b');
case('encoded slash splits a segment', 'GET /contacts/c1%2Ftasks', $w_, 403,
     $TASKS, 'contacts.readonly');
case('encoded slash, the scope it needs', 'GET /contacts/c1%2Ftasks', $r_,
     200, $TASKS, 'contacts.readonly', '/contacts/c1/tasks');
case('encoded slash into a write route',
     'PUT /contacts/c1%2Ftasks%2Ft1%2Fcompleted', $r_, 403,
     '/contacts/{contactId}/tasks/{taskId}/completed', 'contacts.write');
case('encoded question mark stays in the path',
     'GET /contacts/c1%3Fx=/tasks', $w_, 403, $TASKS, 'contacts.readonly');

# with a URI in proxy_pass the upstream gets exactly the normalized path
$r = req('GET /norm/contacts/c1%2Ftasks', $r_);
is($r->{status}, 200, 'proxy_pass with a URI: allowed');
like($r->{body}, qr{^request_uri=/contacts/c1/tasks$}m,
     'the upstream receives the path that was matched');

# query strings are not part of the match
case('query string', 'GET /contacts/c1/tasks?x=/contacts/search&y=%2F', $r_,
     200, $TASKS, 'contacts.readonly', '/contacts/c1/tasks');
case('query string, write token', 'GET /contacts/c1/tasks?a=b', $w_, 403,
     $TASKS, 'contacts.readonly');
case('query string cannot add a route', 'GET /nothing?/contacts/c1', $rw,
     403, undef);

# methods: HEAD uses GET's route; others the spec lacks are no route
case('HEAD uses GET', 'HEAD /contacts/c1', $r_, 200, $CONTACT,
     'contacts.readonly');
case('HEAD, write token', 'HEAD /contacts/c1', $w_, 403, $CONTACT,
     'contacts.readonly');
case('unknown method', 'FOO /contacts/c1', $rw, 403, undef);
case('PATCH (not in the spec)', 'PATCH /contacts/c1', $rw, 403, undef);
case('OPTIONS (not in the spec)', 'OPTIONS /contacts/c1', $rw, 403, undef);
case('literal without the method falls to the parameter',
     'GET /contacts/search', $r_, 200, $CONTACT, 'contacts.readonly');
case('literal route wins', 'POST /contacts/search', $r_, 200,
     '/contacts/search', 'contacts.readonly');

# unmatched paths
case('unknown path', 'GET /nothing', $rw, 403, undef);
case('one segment too many', 'GET /contacts/c1/tasks/t1/x', $rw, 403, undef);
case('one segment short', 'GET /contacts/c1/campaigns', $rw, 403, undef);
case('case matters', 'GET /Contacts/c1', $rw, 403, undef);
case('the root', 'GET /', $rw, 403, undef);
$r = req('GET /nothing', undef);
is($r->{status}, 401, 'no token on an unknown path: 401, the token first');
is(PitTest::HTTP::header($r, 'X-Status'), 'missing', '... missing');

# very long paths
my $long = 'a' x 4000;
case('4000-byte parameter', "GET /contacts/$long", $r_, 200, $CONTACT,
     'contacts.readonly', "/contacts/$long");
case('600 segments', 'GET ' . ('/contacts' x 300) . ('/x' x 300), $rw,
     403, undef);
$r = req('GET /contacts/' . ('b' x 20000), $r_);
ok($r->{status} == 414 || $r->{status} == 400,
   "a path past nginx's buffers is refused by nginx ($r->{status})");

# strip_prefix
case('strip_prefix', 'GET /api/contacts/c1', $r_, 200, $CONTACT,
     'contacts.readonly', '/api/contacts/c1');
case('strip_prefix, write token', 'GET /api/contacts/c1', $w_, 403,
     $CONTACT, 'contacts.readonly');
case('strip_prefix, the prefix alone', 'GET /api/', $rw, 403, undef);
case('strip_prefix, calendars are not in this spec',
     'GET /api/calendars/x1', $rw, 403, undef);

# unmatched=allow
case('unmatched=allow lets unknown paths through', 'GET /allow/nothing',
     $cal, 200, undef, undef, '/allow/nothing');
case('unmatched=allow still checks known ones', 'GET /allow/contacts/c1',
     $cal, 403, $CONTACT, 'contacts.readonly');

# pit_auth_scope adds requirements: both must hold
case('route and pit_auth_scope: read only', 'GET /both/contacts/c1', $r_,
     403, $CONTACT, 'contacts.write');
case('route and pit_auth_scope: write only', 'GET /both/contacts/c1', $w_,
     403, $CONTACT, 'contacts.readonly');
case('route and pit_auth_scope: both', 'GET /both/contacts/c1', $rw, 200,
     $CONTACT, 'contacts.readonly', '/both/contacts/c1');

# error_page applies to a no_route answer like to any 403
$r = req('GET /custom/nothing', $rw);
is($r->{status}, 418, 'error_page 403 replaces the no_route answer');
is($r->{body}, "denied: no_route\n", '... with $pit_auth_status no_route');

like($t->error_log, qr/pit_auth: no_route, token "pit-/,
     'a no_route denial is logged with the token hint');

# nginx -t: bad specs are reported with file and JSON path
my $dir = tempdir(CLEANUP => 1);
sub write_file {
    my ($name, $text) = @_;
    open my $fh, '>', "$dir/$name" or die;
    print $fh $text;
    close $fh;
    return "$dir/$name";
}
my $bad_scope = write_file('bad.json', '{"openapi":"3.0.0","paths":{"/x/{id}"'
    . ':{"get":{"security":[{"bearer":["Contacts"]}]}}}}');
my $dup = write_file('dup.json', '{"openapi":"3.0.0","paths":{'
    . '"/contacts/{id}":{"get":{}}}}');
my $notjson = write_file('not.json', "{\"openapi\": \"3.0.0\",\n  paths }");

sub nginx_t {
    my ($loc) = @_;
    my $n = PitTest::Nginx->new(no_start => 1, http => <<"END");
    pit_auth_redis 127.0.0.1:6379;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            pit_auth on;
            $loc
        }
    }
END
    my ($rc, $out, $err) = $n->test_conf;
    return ($rc, $out . $err);
}

my ($rc, $out) = nginx_t("pit_auth_openapi $data/contacts.json "
                         . "$data/calendars.json $data/conversations.json "
                         . "strip_prefix=/v1 unmatched=allow;");
is($rc, 0, 'nginx -t accepts the three reference files') or diag $out;

my @bad = (
    ['invalid scope name', "pit_auth_openapi $bad_scope;",
     qr/\[emerg\].* pit_auth_openapi: \Q$bad_scope\E: \$\.paths\["\/x\/\{id\}"\]\.get\.security\[0\]\["bearer"\]\[0\]: invalid scope name "Contacts"/],
    ['conflict across files', "pit_auth_openapi $data/contacts.json $dup;",
     qr/\[emerg\].* pit_auth_openapi: conflicting routes: GET \/contacts\/\{contactId\} \(\Q$data\E\/contacts\.json \$\.paths\["\/contacts\/\{contactId\}"\]\.get\) and GET \/contacts\/\{id\} \(\Q$dup\E \$\.paths\["\/contacts\/\{id\}"\]\.get\)/],
    ['not JSON', "pit_auth_openapi $notjson;",
     qr/\[emerg\].* pit_auth_openapi: \Q$notjson\E: \$: invalid JSON at line 2/],
    ['missing file', "pit_auth_openapi $dir/none.json;",
     qr/\[emerg\].* pit_auth_openapi: \Q$dir\E\/none\.json: No such file/],
    ['no file', 'pit_auth_openapi unmatched=deny;',
     qr/\[emerg\].* pit_auth_openapi needs at least one file/],
    ['bad unmatched', "pit_auth_openapi $dup unmatched=maybe;",
     qr/\[emerg\].* invalid pit_auth_openapi "unmatched=maybe"/],
    ['bad prefix', "pit_auth_openapi $dup strip_prefix=api;",
     qr/\[emerg\].* invalid pit_auth_openapi "strip_prefix=api"/],
    ['duplicate', "pit_auth_openapi $dup; pit_auth_openapi $dup;",
     qr/\[emerg\].* "pit_auth_openapi" directive is duplicate/],
);
for my $b (@bad) {
    my ($name, $loc, $re) = @$b;
    ($rc, $out) = nginx_t($loc);
    isnt($rc, 0, "nginx -t fails: $name");
    like($out, $re, "... and says why: $name");
}

my $n = PitTest::Nginx->new(no_start => 1, http => <<"END");
    pit_auth_openapi $dup;
    server { listen 127.0.0.1:%%PORT%%; }
END
($rc, $out, my $err) = $n->test_conf;
like($out . $err, qr/"pit_auth_openapi" directive is not allowed here/,
     'location level only');

done_testing();
