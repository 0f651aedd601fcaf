#!/usr/bin/perl
# Security review, finding 2: CR/LF (and any control character) reaching
# the upstream through the decoded path.  With proxy_pass built from
# variables ($uri, a map over $uri) nginx sends the decoded path as is, so
# "%0D%0A" in the request path became header lines of the proxied request
# (X-Pit-Account-Id: locB ahead of the module's own).  Every pit_auth
# location now refuses a decoded path holding a control character with 400
# "ambiguous" before any upstream, also with pit_auth_ambiguous_path
# allow.  The safe forwarding patterns of the README (proxy_pass without
# variables, with a URI, in a regex location) are checked with the attack
# and with a normal request.  A raw TCP upstream records the exact bytes.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use PitTest;
use PitModule;

my $raw = PitModule::RawUpstream->new;
my $R = $raw->url;

my $LOCS = <<"END";
        add_header X-Status \$pit_auth_status always;
        location ~ ^/nl/(?<loc>[^/]+)(/|\$) {
            pit_auth on;
            pit_auth_account \$loc;
            proxy_pass $R\$uri\$is_args\$args;
        }
        location /mp/ {
            pit_auth on;
            proxy_pass $R\$mapped\$is_args\$args;
        }
        location /sa/ {
            pit_auth on;
            proxy_pass $R;
        }
        location /sb/ {
            pit_auth on;
            proxy_pass $R/;
        }
        location /sv/ {
            pit_auth on;
            proxy_pass $R/v1/;
        }
        location ~ ^/sc/(?<loc>[^/]+)(/|\$) {
            pit_auth on;
            pit_auth_account \$loc;
            proxy_pass $R;
        }
END
my $MAP = <<'END';
    map $uri $mapped {
        ~^/mp/(?<rest>.*)$  /mp/$rest;
        default             /;
    }
END

my $t = PitModule->new(http => $MAP, server => $LOCS);
# the same locations with the raw-path check switched off: the control
# character check stays (a new directive: today's module refuses it)
my $ta = PitModule->new(redis => $t->redis, may_fail => 1, http => $MAP,
    server => $LOCS =~ s/(pit_auth on;)/$1 pit_auth_ambiguous_path allow;/gr);

my ($id, $TA) = $t->token(account => 'locA', scopes => ['contacts.readonly']);

my $PATH_BODY = '{"statusCode":400,"message":"The request path is ambiguous.",'
                . '"error":"Bad Request"}' . "\n";

# the review's request, for a location prefix
sub attack {
    my ($prefix, $crlf) = @_;
    $crlf //= '%0D%0A';
    return "GET $prefix/x%20HTTP/1.1${crlf}X-Pit-Account-Id:%20locB${crlf}"
           . "X-Pit-Scopes:%20contacts.write${crlf}X-Junk:";
}

# What the raw upstream got is never an injected line or a second request.
sub upstream_clean {
    my ($name) = @_;
    my $all = $raw->all;
    unlike($all, qr/^X-Pit-Account-Id:\s*locB/mi,
           "$name: the upstream never got X-Pit-Account-Id: locB");
    unlike($all, qr/^X-Pit-Scopes:\s*contacts\.write/mi,
           "$name: the upstream never got X-Pit-Scopes: contacts.write");
    my $lines = () = $all =~ m{^[A-Z]+ \S* HTTP/1\.\d\r?$}mg;
    ok($lines <= $raw->count,
       "$name: no second request line in one request ($lines lines, "
       . $raw->count . ' requests)');
}

sub refused {
    my ($name, $port, $line, %o) = @_;
    $raw->clear;
    my $r = PitTest::HTTP::request($port, $line,
                                   headers => [Authorization => "Bearer $TA"]);
    subtest $name => sub {
        is($r->{status}, 400, 'status 400');
        unless ($o{nginx_may_refuse} && !defined
                PitTest::HTTP::header($r, 'X-Status')) {
            is(PitTest::HTTP::header($r, 'X-Status'), 'ambiguous',
               '$pit_auth_status ambiguous');
            is($r->{body}, $PATH_BODY, 'body');
        }
        is($raw->count, 0, 'the raw upstream received nothing');
        upstream_clean('refused');
    };
}

# the review's request, exactly
refused('review: CRLF header injection through $uri',
        $t->port, attack('/nl/locA'));
like($t->error_log, qr/pit_auth: ambiguous/,
     'error.log: an "pit_auth: ambiguous" line');

# variants an attacker tries next, through $uri
refused('LF alone', $t->port, attack('/nl/locA', '%0A'));
refused('CR alone', $t->port, attack('/nl/locA', '%0D'));
refused('lowercase %0d%0a', $t->port, attack('/nl/locA', '%0d%0a'));
refused('NUL (nginx may refuse it itself)', $t->port,
        'GET /nl/locA/x%00y', nginx_may_refuse => 1);
refused('TAB', $t->port, 'GET /nl/locA/x%09y');
refused('ESC', $t->port, 'GET /nl/locA/x%1By');
refused('DEL', $t->port, 'GET /nl/locA/x%7Fy');
refused('LF in the account segment', $t->port,
        'GET /nl/locA%0AX-Pit-Account-Id:%20locB/x');

# through a map-derived variable
refused('map over $uri: CRLF', $t->port, attack('/mp'));
refused('map over $uri: LF alone', $t->port, attack('/mp', '%0a'));

# the safe patterns: the attack is refused as well, a normal request passes
# and the upstream gets the right path
my %safe = (
    'a: proxy_pass without a URI'   => ['/sa', '/sa/x/y'],
    'b: proxy_pass with URI /'      => ['/sb', '/x/y'],
    'b: proxy_pass with URI /v1/'   => ['/sv', '/v1/x/y'],
    'c: regex location, no URI'     => ['/sc/locA', '/sc/locA/x/y'],
);
for my $name (sort keys %safe) {
    my ($prefix, $want) = @{ $safe{$name} };
    refused("safe $name: the attack", $t->port, attack($prefix));
    refused("safe $name: LF alone", $t->port, attack($prefix, '%0a'));
    $raw->clear;
    my $r = $t->bearer("$prefix/x/y?q=1", $TA);
    subtest "safe $name: a normal request" => sub {
        is($r->{status}, 200, 'status 200');
        is($raw->count, 1, 'one request upstream');
        my ($line) = split /\r\n/, $raw->all;
        # proxy_http_version's default is 1.1 since nginx 1.29
        $line =~ s{ HTTP/1\.[01]$}{};
        is($line, "GET $want?q=1", "upstream request line: $want");
        my @acct = grep { lc $_->[0] eq 'x-pit-account-id' }
                   PitModule::RawUpstream::header_lines($raw->all);
        is(join(',', map { $_->[1] } @acct), 'locA',
           'one X-Pit-Account-Id, the real one');
    };
}

# and with the raw-path check off, the control characters still are
{
    ok(!$ta->start_error, 'nginx starts with pit_auth_ambiguous_path allow')
        or diag($ta->start_error);
    refused('ambiguous_path allow: CRLF through $uri still refused',
            $ta->port, attack('/nl/locA'));
    refused('ambiguous_path allow: LF through a map still refused',
            $ta->port, attack('/mp', '%0A'));
    refused('ambiguous_path allow: CRLF on a safe location still refused',
            $ta->port, attack('/sa'));
    $raw->clear;
    is($ta->get('/sc/locA/x', Authorization => "Bearer $TA")->{status}, 200,
       'ambiguous_path allow: a normal request passes');
}

is(join("\n", $t->bad_log_lines), '', 'no [alert], [crit] or [emerg]');

done_testing();
