#!/usr/bin/perl
# HTTP/3: the token is checked on requests that came over QUIC exactly as
# over HTTP/1.1 and HTTP/2 -- the 401/403/200/503 table, spoofed X-Pit-*
# headers stripped before the upstream, Authorization hidden from it, and
# no token in the error log (at debug) or the access log.
#
# Needs an nginx built --with-http_v3_module (skips otherwise, e.g. on
# Debian's 1.22), and a client: Debian's chromium forced onto QUIC
# (--origin-to-force-quic-on) driven by playwright-core from
# tests/browser/node_modules (scripts/install-deps.sh), through
# tests/h3/h3-fetch.js.  The page fetch()es each request from the same
# origin, so Authorization and X-Pit-* headers are sent as given.  Every
# request is shown to have gone over HTTP/3 twice: the browser's
# nextHopProtocol ("h3") and nginx's access log ($server_protocol
# HTTP/3.0, $http3 h3).  Without chromium or node_modules the test skips,
# unless PIT_REQUIRE_BUILD is set.  The debug log is searched through
# nginx's QPACK lines too (chromium inserts Authorization into the dynamic
# table and refers to it in later requests).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use File::Find;
use JSON::PP ();
use Time::HiRes qw(time);
use PitTest;
use PitModule;

my $top = PitTest::top();
my $nginx = PitTest::nginx_bin();
my (undef, $Vout, $Verr) = PitTest::run_cmd([$nginx, '-V']);
my $V = "$Vout$Verr";
plan skip_all => "$nginx is built without --with-http_v3_module"
    unless $V =~ /--with-http_v3_module/;

# the client: missing pieces skip, or fail when the build must be complete
my $chromium = $ENV{PIT_CHROMIUM} || '/usr/bin/chromium';
my @missing;
push @missing, 'node' unless grep { -x "$_/node" } split /:/, $ENV{PATH};
push @missing, $chromium unless -x $chromium;
push @missing, 'tests/browser/node_modules/playwright-core (npm ci)'
    unless -f "$top/tests/browser/node_modules/playwright-core/package.json";
push @missing, 'openssl'
    unless grep { -x "$_/openssl" } split /:/, $ENV{PATH};
if (@missing) {
    my $why = 'HTTP/3 client missing: ' . join(', ', @missing)
              . ' (scripts/install-deps.sh)';
    if ($ENV{PIT_REQUIRE_BUILD}) {
        plan tests => 1;
        fail($why);
        exit;
    }
    plan skip_all => $why;
}

# a throwaway certificate for 127.0.0.1, and the base64 SHA-256 of its
# public key for chromium's --ignore-certificate-errors-spki-list
my $tmp = tempdir(CLEANUP => 1);
my ($rc, $out, $err) = PitTest::run_cmd(['openssl', 'req', '-x509',
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', "$tmp/key.pem", '-out', "$tmp/cert.pem", '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
die "openssl req: $err" if $rc;
($rc, $out, $err) = PitTest::run_cmd(['sh', '-c',
    "openssl x509 -in '$tmp/cert.pem' -pubkey -noout"
    . " | openssl pkey -pubin -outform der"
    . " | openssl dgst -sha256 -binary | openssl base64 -A"]);
die "spki hash: $err" if $rc || $out !~ m{^[A-Za-z0-9+/]{43}=$};
my $spki = $out;

my $h3 = PitTest::free_port();
my $closed = PitTest::free_port();
my $t = PitModule->new(log_level => 'debug',
    listen_extra => <<"END",
        listen 127.0.0.1:$h3 quic;
        listen 127.0.0.1:$h3 ssl;
        http3 on;
        ssl_certificate $tmp/cert.pem;
        ssl_certificate_key $tmp/key.pem;
        ssl_protocols TLSv1.3;
        access_log %%DIR%%/logs/h3.log h3;
END
    http => <<'END',
    log_format h3 '$server_protocol|$http3|$status|$request|$pit_auth_status';
END
    server => <<"END");
        location = /h3-page {
            default_type text/html;
            return 200 "<!doctype html><title>pit-auth h3</title>\\n";
        }
        location /api/ {
            pit_auth on;
            pit_auth_scope contacts.readonly;
            proxy_pass %%UP%%;
        }
        location /write/ {
            pit_auth on;
            pit_auth_scope contacts.write;
            proxy_pass %%UP%%;
        }
        location /down/ {
            pit_auth on;
            pit_auth_redis 127.0.0.1:$closed;
            proxy_pass %%UP%%;
        }
END
my $dir = $t->nginx->dir;

my ($id, $tok) = $t->token(account => 'acct1',
                           scopes => ['contacts.readonly']);
my ($id2, $tok2) = $t->token(account => 'acct1',
                             scopes => ['contacts.readonly']);
my $unknown = 'pit-00000000-0000-4000-8000-000000000000';

my @cases = (
    { name => 'no token', path => '/api/none', headers => {},
      status => 401, www => 'Bearer realm="api"' },
    { name => 'unknown token', path => '/api/unknown',
      headers => { Authorization => "Bearer $unknown" },
      status => 401, www => 'Bearer realm="api", error="invalid_token"' },
    { name => 'token without the scope', path => '/write/x',
      headers => { Authorization => "Bearer $tok" },
      status => 403, www => 'Bearer realm="api", error="insufficient_scope",'
                            . ' scope="contacts.write"' },
    { name => 'valid token, spoofed X-Pit-* headers', path => '/api/ok',
      headers => { Authorization => "Bearer $tok",
                   'X-Pit-Integration-Id' => 'spoofed',
                   'X-Pit-Account-Id' => 'spoofed',
                   'X-Pit-Scopes' => 'admin', 'X-Pit-Evil' => '1',
                   'X-Other' => 'kept' },
      status => 200 },
    { name => 'no token, spoofed X-Pit-* headers', path => '/api/spoof',
      headers => { 'X-Pit-Integration-Id' => 'spoofed',
                   'X-Pit-Scopes' => 'admin' },
      status => 401, www => 'Bearer realm="api"' },
    { name => '?access_token= alone (ignored)',
      path => "/api/q?a=1&access_token=$tok2&b=2", headers => {},
      status => 401, www => 'Bearer realm="api"' },
    { name => 'Redis down', path => '/down/x',
      headers => { Authorization => "Bearer $tok" }, status => 503 },
);

my $spec = "$tmp/spec.json";
open my $fh, '>', $spec or die;
print $fh JSON::PP->new->canonical->encode({
    origin => "https://127.0.0.1:$h3", spki => $spki, page => '/h3-page',
    timeout_ms => 30000,
    requests => [ map { { path => $_->{path}, headers => $_->{headers} } }
                  @cases ] });
close $fh;

my $t0 = time;
($rc, $out, $err) = PitTest::run_cmd(['node', "$top/tests/h3/h3-fetch.js",
    $spec], timeout => 90);
my $secs = time - $t0;
my $res = eval { JSON::PP->new->utf8->decode($out) };
ok($res && $rc == 0, 'chromium answered every request')
    or diag("rc $rc\n$out\n$err");
$res //= { page => {}, results => [] };
note(sprintf 'chromium %s, %d requests over HTTP/3 in %.1f s '
     . '(%d ms in the browser)', $res->{chromium} // '?', scalar @cases,
     $secs, $res->{ms} // 0);

is($res->{page}{status}, 200, 'the page: 200');
is($res->{page}{protocol}, 'h3', 'the page came over HTTP/3');

my %r;
for my $i (0 .. $#cases) {
    my $c = $cases[$i];
    my $r = $res->{results}[$i] // { headers => {} };
    $r{ $c->{path} } = $r;
    subtest "HTTP/3: $c->{name}" => sub {
        is($r->{protocol}, 'h3', 'over HTTP/3 (nextHopProtocol)');
        is($r->{status}, $c->{status}, "status $c->{status}");
        is($r->{headers}{'www-authenticate'}, $c->{www}, 'WWW-Authenticate');
        like($r->{headers}{'content-type'} // '', qr{^application/json},
             'a JSON body') if $c->{status} != 200;
    };
}

my $e = PitModule::echoed($r{'/api/ok'});
is($e->{uri}, '/api/ok', 'the upstream got the request');
is($e->{'x-pit-integration-id'}, $id, 'spoofed integration id replaced');
is($e->{'x-pit-account-id'}, 'acct1', 'spoofed account replaced');
is($e->{'x-pit-scopes'}, 'contacts.readonly', 'spoofed scopes replaced');
is($e->{'x-pit-evil'}, '', 'other X-Pit-* headers removed');
is($e->{'x-other'}, 'kept', 'other headers kept');
is($e->{authorization}, '', 'Authorization hidden from the upstream');
like($r{'/down/x'}{headers}{'retry-after'} // '', qr/^1$/,
     'Redis down: Retry-After: 1');

$t->nginx->stop;

# nginx's own view: every request of the table over HTTP/3
my @h3log = split /\n/, PitTest::slurp("$dir/logs/h3.log");
for my $c (@cases) {
    (my $p = $c->{path}) =~ s/\?.*//;
    my ($line) = grep { m{^[^|]*\|[^|]*\|\d+\|GET \Q$p\E[? ]} } @h3log;
    like($line // '', qr{^HTTP/3\.0\|h3\|$c->{status}\|},
         "access log: $p as HTTP/3.0, \$http3 h3, $c->{status}");
}

# no token in any log, whole or in part; the masked form is there
my %text;
find({ no_chdir => 1, wanted => sub {
    return unless -f $_ && m{/logs/};
    $text{ $_ =~ s{^\Q$dir\E/}{}r } = PitTest::slurp($_);
}}, $dir);
my @secret;
for my $k ($tok, $tok2) {
    my $body = lc substr($k, 8, 28);
    push @secret, map { substr($body, $_, 8) } 0 .. length($body) - 8;
}
my $secret_re = join '|', map { quotemeta } @secret;
$secret_re = qr/$secret_re/i;
for my $name (sort keys %text) {
    my @hits = grep { /$secret_re/ } split /\n/, $text{$name};
    is(scalar @hits, 0, "$name: no token, whole or in part")
        or diag(join "\n", map { substr($_, 0, 300) } @hits[0 .. 2]);
}
sub masked { my $k = shift; substr($k, 0, 8) . '\*{4}-\*{4}-\*{4}-\*{4}-\*{8}'
                            . substr($k, 36, 4) }
my ($m1, $m2) = map { masked($_) } $tok, $tok2;
my $elog = $text{'logs/error.log'} // '';
like($text{'logs/h3.log'} // '',
     qr{^HTTP/3\.0\|h3\|401\|GET /api/q\?a=1&access_token=$m2&b=2 HTTP/3\.0\|}m,
     'access log: an HTTP/3 request line with ?access_token=, masked');
SKIP: {
    # PIT_LOG_LEVEL (whole-suite runs) or a build without --with-debug
    skip 'the error log has no debug lines', 4 unless $elog =~ /\[debug\]/;
    like($elog, qr/http3 header: "authorization: Bearer $m1"/,
         'error log at debug: the HTTP/3 Authorization header, masked');
    like($elog, qr/http3 insert \[\d+\] "authorization":"Bearer $m1"/,
         'error log at debug: the QPACK dynamic table insert, masked');
    like($elog, qr/http3 request line: "GET \/api\/q\?a=1&access_token=$m2&b=2 HTTP\/3\.0"/,
         'error log at debug: the HTTP/3 request line, masked');
    like($elog, qr/\[info\].*access_token in the query string ignored.*request: "GET \/api\/q\?a=1&access_token=$m2&b=2 HTTP\/3\.0"/,
         'error log: the module\'s own line, its request context masked');
    note('the Authorization header came through a QPACK dynamic table '
         . 'reference too') if $elog =~ /http3 dynamic\[\d+\] lookup "authorization"/;
}

is(join("\n", $t->bad_log_lines), '', 'no [alert], [crit] or [emerg]');

done_testing();
