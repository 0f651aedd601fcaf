#!/usr/bin/perl
# Security review, finding 4: the module decides on nginx's normalized
# $uri, while the upstream may read the raw path its own way: dot segments
# resolved differently ("/locations/locB/../locA/..." is locA for nginx),
# ";" path parameters ("..;/" on Tomcat), backslashes, "//", encoded "/",
# ".", "\", ";", "%".  pit_auth_ambiguous_path deny (the default) refuses
# such a raw path with 400 "ambiguous" before any upstream; allow brings
# the old behaviour back.  Normal paths are unaffected.  And with
# pit_auth_openapi unmatched=allow, a path that matches a route only when
# case is ignored is no_route (403), not an unknown path let through.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use PitTest;
use PitModule;

my $data = PitTest::top() . '/tests/data/highlevel';
my $raw = PitModule::RawUpstream->new;
my $R = $raw->url;

my $LOCS = <<"END";
        add_header X-Status \$pit_auth_status always;
        location ~ ^/locations/(?<loc>[^/]+)(/|\$) {
            pit_auth on;
            pit_auth_account \$loc;
            proxy_pass $R;
        }
        location ~ ^/nl/(?<loc>[^/]+)(/|\$) {
            pit_auth on;
            pit_auth_account \$loc;
            proxy_pass $R;
        }
        location /a {
            pit_auth on;
            proxy_pass $R;
        }
        location /ua/ {
            pit_auth on;
            pit_auth_openapi $data/contacts.json strip_prefix=/ua
                             unmatched=allow;
            proxy_pass $R;
        }
END

my $t = PitModule->new(server => $LOCS);
my $ta = PitModule->new(redis => $t->redis, may_fail => 1,
    server => $LOCS =~ s/(pit_auth on;)/$1 pit_auth_ambiguous_path allow;/gr);

my (undef, $TA) = $t->token(account => 'locA', scopes => ['contacts.readonly']);

my $PATH_BODY = '{"statusCode":400,"message":"The request path is ambiguous.",'
                . '"error":"Bad Request"}' . "\n";
my $NO_ROUTE = '{"statusCode":403,"message":"No such route.",'
               . '"error":"Forbidden"}' . "\n";

sub req {
    my ($port, $line) = @_;
    $raw->clear;
    return PitTest::HTTP::request($port, $line,
                                  headers => [Authorization => "Bearer $TA"]);
}

# refused(name, path[, nginx itself may answer 400 first])
sub refused {
    my ($name, $path, $nginx_may) = @_;
    my $r = req($t->port, "GET $path");
    subtest "deny: $name" => sub {
        is($r->{status}, 400, 'status 400');
        unless ($nginx_may && !defined PitTest::HTTP::header($r, 'X-Status')) {
            is(PitTest::HTTP::header($r, 'X-Status'), 'ambiguous',
               '$pit_auth_status ambiguous');
            is($r->{body}, $PATH_BODY, 'body');
        }
        is($raw->count, 0, 'the upstream received nothing');
    };
}

sub passes {
    my ($name, $port, $line) = @_;
    my $r = req($port, $line);
    my ($method, $path) = split / /, $line;
    subtest $name => sub {
        is($r->{status}, 200, 'status 200');
        is($raw->count, 1, 'the upstream got it');
        my ($got) = split /\r\n/, $raw->all;
        # proxy_http_version's default is 1.1 since nginx 1.29
        $got =~ s{ HTTP/1\.[01]$}{};
        is($got, $line, 'the upstream got the raw path as sent');
    };
}

# dot segments
refused('the review\'s /locations/locB/../locA/contacts',
        '/locations/locB/../locA/contacts');
refused('encoded dot segment %2e%2e', '/locations/locB/%2e%2e/locA/contacts');
refused('encoded dot segment %2E%2E', '/locations/locB/%2E%2E/locA/contacts');
refused('half-encoded dot segment .%2e', '/locations/locB/.%2e/locA/contacts');
refused('/./', '/a/./b');
refused('trailing /..', '/a/b/..');
refused('trailing /../', '/a/b/../');
refused('trailing /.', '/a/b/.');
# ";"
refused('"..;/" (Tomcat)', '/nl/locA/..;/locB/x');
refused('";" in a segment', '/ua/contacts;/abc');
refused('";" path parameter', '/a/b;jsessionid=1');
refused('%3B', '/nl/locA/..%3B/locB/x');
refused('%3b', '/a/b%3bc');
# backslashes
refused('a backslash', '/a/b\\c');
refused('..\\ ', '/nl/locA/..\\locB/x');
refused('%5C', '/a/b%5Cc');
refused('%5c', '/a/b%5cc');
# slashes
refused('//', '/a//b');
refused('leading //', '//a/b');
refused('%2F', '/a/b%2Fc');
refused('%2f', '/a/b%2fc');
refused('..%2F', '/nl/locA/..%2FlocB/x');
# encoded ".", "%"
refused('%2E', '/a/b%2Ejson');
refused('%2e', '/a/b%2ejson');
refused('%25', '/a/b%25c');
refused('%252F (double encoding)', '/a/b%252Fc');
# encoded control characters
refused('%00 (nginx may refuse it first)', '/a/b%00', 1);
refused('%01', '/a/b%01');
refused('%0A', '/a/b%0A');
refused('%0d', '/a/b%0d');
refused('%1F', '/a/b%1F');
refused('%1f', '/a/b%1f');
refused('%7F', '/a/b%7F');
refused('%7f', '/a/b%7f');
# a bad "%"
refused('%zz (nginx may refuse it first)', '/a/b%zz', 1);
refused('a cut %4 (nginx may refuse it first)', '/a/b%4', 1);
refused('a lone % (nginx may refuse it first)', '/a/b%', 1);
like($t->error_log, qr/pit_auth: ambiguous/,
     'error.log: "pit_auth: ambiguous" lines');

# normal paths are unaffected
passes('normal: own location', $t->port, 'GET /locations/locA/contacts');
passes('normal: a dot in a name', $t->port, 'GET /a/b.json');
passes('normal: "..b" is no dot segment', $t->port, 'GET /a/..b');
passes('normal: "b..c"', $t->port, 'GET /a/b..c');
passes('normal: ".hidden"', $t->port, 'GET /a/.hidden');
passes('normal: an encoded blank', $t->port, 'GET /a%20b');
passes('normal: an encoded letter', $t->port, 'GET /a/b%41');
passes('normal: "~" and "+"', $t->port, 'GET /a/b~c+d');
passes('normal: the query is not the path', $t->port,
       'GET /a/b?x=../y&z=%2F;w=\\&v=%00');
my $r = req($t->port, 'GET /locations/locB/contacts');
is($r->{status}, 403, 'normal: another location is still 403');

# pit_auth_ambiguous_path allow: the old behaviour
ok(!$ta->start_error, 'nginx starts with pit_auth_ambiguous_path allow')
    or diag($ta->start_error);
passes('allow: /locations/locB/../locA/contacts', $ta->port,
       'GET /locations/locB/../locA/contacts');
passes('allow: /./', $ta->port, 'GET /a/./b');
passes('allow: //', $ta->port, 'GET /a//b');
passes('allow: ..;/', $ta->port, 'GET /nl/locA/..;/locB/x');
passes('allow: %2F', $ta->port, 'GET /a/b%2Fc');
passes('allow: a normal path', $ta->port, 'GET /locations/locA/contacts');

# pit_auth_openapi unmatched=allow: case-insensitive matches are no_route
sub route {
    my ($name, $line, $status, $st) = @_;
    my $r = req($t->port, $line);
    subtest $name => sub {
        is($r->{status}, $status, "status $status");
        is(PitTest::HTTP::header($r, 'X-Status'), $st, "\$pit_auth_status $st");
        is($r->{body}, $NO_ROUTE, 'body') if $st eq 'no_route';
        is($raw->count, $status == 200 ? 1 : 0,
           $status == 200 ? 'the upstream got it' : 'the upstream got nothing');
    };
}
route('openapi: DELETE /Contacts/abc matches DELETE /contacts/{id} only '
      . 'ignoring case: no_route', 'DELETE /ua/Contacts/abc', 403, 'no_route');
route('openapi: GET /CONTACTS/abc: no_route', 'GET /ua/CONTACTS/abc', 403,
      'no_route');
route('openapi: GET /contacts/abc/TASKS: no_route',
      'GET /ua/contacts/abc/TASKS', 403, 'no_route');
route('openapi: POST /contacts/Search: no_route',
      'POST /ua/contacts/Search', 403, 'no_route');
route('openapi: DELETE /contacts/abc, read token: insufficient_scope',
      'DELETE /ua/contacts/abc', 403, 'insufficient_scope');
route('openapi: GET /contacts/abc: allowed', 'GET /ua/contacts/abc', 200,
      'ok');
route('openapi: a truly unknown path is still allowed',
      'GET /ua/nothing/here', 200, 'ok');
route('openapi: an unknown path in capitals is still allowed',
      'GET /ua/Nothing', 200, 'ok');

is(join("\n", $t->bad_log_lines), '', 'no [alert], [crit] or [emerg]');

done_testing();
