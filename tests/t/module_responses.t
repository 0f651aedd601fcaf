#!/usr/bin/perl
# The response table of the nginx module (issue #3, part 5): status,
# WWW-Authenticate byte for byte, JSON bodies, $pit_auth_status.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use PitTest;
use PitModule;

my $closed = PitTest::free_port();
my $t = PitModule->new(server => <<"END");
        add_header X-Status \$pit_auth_status always;
        add_header X-Hint \$pit_token_hint always;
        location /api/ {
            pit_auth on;
            pit_auth_scope contacts.readonly;
            proxy_pass %%UP%%;
        }
        location /write {
            pit_auth on;
            pit_auth_scope contacts.readonly contacts.write;
            proxy_pass %%UP%%;
        }
        location /anyof {
            pit_auth on;
            pit_auth_scope "contacts.write|contacts.readonly";
            proxy_pass %%UP%%;
        }
        location /none-of {
            pit_auth on;
            pit_auth_scope "contacts.write|calendars.write";
            proxy_pass %%UP%%;
        }
        location /hl {
            pit_auth on;
            pit_auth_scope contacts.write;
            pit_auth_scope_status 401;
            pit_auth_realm HighLevel;
            proxy_pass %%UP%%;
        }
        location ~ ^/acct/(?<acct>[^/]+) {
            pit_auth on;
            pit_auth_account \$acct;
            proxy_pass %%UP%%;
        }
        location /down {
            pit_auth on;
            pit_auth_redis 127.0.0.1:$closed;
            proxy_pass %%UP%%;
        }
        location /ep {
            pit_auth on;
            error_page 401 /custom401;
            proxy_pass %%UP%%;
        }
        location = /custom401 {
            internal;
            return 401 "custom\\n";
        }
END

my ($id, $tok) = $t->token(account => 'acct1', scopes => ['contacts.readonly']);
ok($tok && $tok =~ /^pit-[0-9a-f-]{36}$/, 'pitctl made a token');
(my $hint_re = $tok) =~ s/^(pit-[0-9a-f]{4})[0-9a-f]{4}-.*([0-9a-f]{4})$/$1/;

my %BODY = (
    missing => '{"statusCode":401,"message":"Missing token: an Authorization:'
               . ' Bearer token is required","error":"Unauthorized"}',
    invalid => '{"statusCode":401,"message":"Invalid token: access token is'
               . ' invalid","error":"Unauthorized"}',
    scope => '{"statusCode":403,"message":"The token is not authorized for'
             . ' this scope.","error":"Forbidden"}',
    scope401 => '{"statusCode":401,"message":"The token is not authorized'
                . ' for this scope.","error":"Unauthorized"}',
    account => '{"statusCode":403,"message":"The token does not have access'
               . ' to this location.","error":"Forbidden"}',
    bad => '{"statusCode":400,"message":"Invalid request","error":"Bad'
           . ' Request"}',
    down => '{"statusCode":503,"message":"Authorization backend'
            . ' unavailable","error":"Service Unavailable"}',
);

sub check {
    my ($name, $r, $status, $www, $body, $st) = @_;
    subtest $name => sub {
        is($r->{status}, $status, 'status');
        is(PitTest::HTTP::header($r, 'WWW-Authenticate'), $www,
           'WWW-Authenticate');
        is(scalar @{ $r->{headers}{'www-authenticate'} // [] },
           defined $www ? 1 : 0, 'one WWW-Authenticate at most');
        if (defined $body) {
            is($r->{body}, "$body\n", 'body');
            is(PitTest::HTTP::header($r, 'Content-Type'), 'application/json',
               'content type');
        }
        is(PitTest::HTTP::header($r, 'X-Status'), $st, '$pit_auth_status')
            if defined $st;
    };
}

my $B = 'Bearer realm="api"';
my $IT = 'Bearer realm="api", error="invalid_token"';
my $IR = 'Bearer realm="api", error="invalid_request"';

check('no credentials', $t->get('/api/x'), 401, $B, $BODY{missing}, 'missing');
check('Bearer', $t->get('/api/x', Authorization => "Bearer $tok"),
      200, undef, undef, 'ok');
check('bearer', $t->get('/api/x', Authorization => "bearer $tok"),
      200, undef, undef, 'ok');
check('BEARER', $t->get('/api/x', Authorization => "BEARER $tok"),
      200, undef, undef, 'ok');
check('bare token', $t->get('/api/x', Authorization => $tok),
      200, undef, undef, 'ok');
check('Basic', $t->get('/api/x', Authorization => 'Basic dXNlcjpwYXNz'),
      401, $B, $BODY{missing}, 'missing');
check('other scheme', $t->get('/api/x', Authorization => "Token $tok"),
      401, $B, $BODY{missing}, 'missing');

# nginx 1.22 itself rejects a second Authorization header with a plain 400
my $dup = $t->get('/api/x', Authorization => "Bearer $tok",
                  Authorization => "Bearer $tok");
is($dup->{status}, 400, 'duplicate Authorization: 400');

check('empty Bearer', $t->get('/api/x', Authorization => 'Bearer'),
      400, $IR, $BODY{bad}, 'malformed');
check('blank Bearer', $t->get('/api/x', Authorization => 'Bearer   '),
      400, $IR, $BODY{bad}, 'malformed');
check('access_token alone', $t->get("/api/x?access_token=$tok"),
      401, $B, $BODY{missing}, 'missing');
check('access_token and header',
      $t->get("/api/x?a=1&access_token=$tok", Authorization => "Bearer $tok"),
      400, $IR, $BODY{bad}, 'malformed');

check('malformed', $t->get('/api/x', Authorization => 'Bearer pit-1234'),
      401, $IT, $BODY{invalid}, 'malformed');
check('uppercase hex', $t->get('/api/x', Authorization => 'Bearer ' . uc $tok),
      401, $IT, $BODY{invalid}, 'malformed');
(my $nonascii = $tok) =~ s/.$/\xe9/;
check('non-ASCII', $t->get('/api/x', Authorization => "Bearer $nonascii"),
      401, $IT, $BODY{invalid}, 'malformed');
check('trailing garbage', $t->get('/api/x', Authorization => "Bearer $tok x"),
      401, $IT, $BODY{invalid}, 'malformed');

my $unknown = 'pit-00000000-0000-4000-8000-000000000000';
check('unknown', $t->get('/api/x', Authorization => "Bearer $unknown"),
      401, $IT, $BODY{invalid}, 'invalid');

# a previous token past its deadline, still in Redis: invalid all the same
my ($id2, $tok2) = $t->token(account => 'acct1');
my $key2 = PitTest::Pitctl::token_key($tok2);
my $rec = $t->redis->raw('GET', $key2);
my $past = int(time * 1000) - 1000;
$rec =~ s/"role":"primary"/"role":"previous"/;
$rec =~ s/"until":\d+/"until":$past/;
$t->redis->cmd('SET', $key2, $rec);
check('expired previous', $t->get('/api/x', Authorization => "Bearer $tok2"),
      401, $IT, $BODY{invalid}, 'expired');

check('missing scope', $t->get('/write', Authorization => "Bearer $tok"),
      403, 'Bearer realm="api", error="insufficient_scope", '
           . 'scope="contacts.write"', $BODY{scope}, 'insufficient_scope');
check('any-of satisfied', $t->get('/anyof', Authorization => "Bearer $tok"),
      200, undef, undef, 'ok');
check('any-of unsatisfied',
      $t->get('/none-of', Authorization => "Bearer $tok"),
      403, 'Bearer realm="api", error="insufficient_scope", '
           . 'scope="contacts.write calendars.write"', $BODY{scope},
      'insufficient_scope');
check('scope status 401', $t->get('/hl', Authorization => "Bearer $tok"),
      401, 'Bearer realm="HighLevel", error="insufficient_scope", '
           . 'scope="contacts.write"', $BODY{scope401}, 'insufficient_scope');
check('realm', $t->get('/hl'), 401, 'Bearer realm="HighLevel"',
      $BODY{missing}, 'missing');

check('right account', $t->get('/acct/acct1', Authorization => "Bearer $tok"),
      200, undef, undef, 'ok');
check('wrong account', $t->get('/acct/acct2', Authorization => "Bearer $tok"),
      403, undef, $BODY{account}, 'wrong_account');

my $down = $t->get('/down', Authorization => "Bearer $tok");
check('redis unreachable', $down, 503, undef, $BODY{down}, 'unavailable');
is(PitTest::HTTP::header($down, 'Retry-After'), '1', 'Retry-After: 1');

my $ep = $t->get('/ep');
is($ep->{status}, 401, 'error_page: status kept');
is($ep->{body}, "custom\n", 'error_page: body replaced');
is(PitTest::HTTP::header($ep, 'WWW-Authenticate'), $B,
   'error_page: WWW-Authenticate kept');

my $head = PitTest::HTTP::request($t->port, 'HEAD /api/x');
is($head->{status}, 401, 'HEAD: 401');
is($head->{body}, '', 'HEAD: no body');

my $ok = $t->get('/api/x', Authorization => "Bearer $tok");
like(PitTest::HTTP::header($ok, 'X-Hint'),
     qr/^\Q$hint_re\E\*{4}-\*{4}-\*{4}-\*{4}[0-9a-f]{4}$/,
     '$pit_token_hint is masked');

# nginx itself logs a duplicate header line verbatim at info level; every
# other line, and every line of the module, must be free of tokens
my $log = join "\n", grep { !/client sent duplicate header line/ }
                     split /\n/, $t->error_log;
unlike($log, qr/\Q$tok\E/, 'error.log never holds a token');
like($log, qr/pit_auth: invalid, token "pit-0000\*{4}/,
     'error.log names the status and the hint');

done_testing();
