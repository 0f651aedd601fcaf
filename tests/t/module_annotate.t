#!/usr/bin/perl
# Annotation as the upstream sees it, spoofing, hiding the token, variables,
# and nginx semantics: satisfy, auth_basic, internal redirects,
# subrequests, keepalive, HTTP/2.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use PitTest;
use PitModule;

my $h2 = PitTest::free_port();
my $dir = File::Temp::tempdir(CLEANUP => 1);
chmod 0755, $dir;     # read by the worker (user nobody)
open my $fh, '>', "$dir/htpasswd" or die;
print $fh "alice:{PLAIN}secret\n";
close $fh;
chmod 0644, "$dir/htpasswd";

my $t = PitModule->new(
    listen_extra => "listen 127.0.0.1:$h2 http2;",
    up_extra => <<'END',
        location /xaccel-w {
            add_header X-Accel-Redirect /protected-w;
            return 200 "";
        }
        location /xaccel-r {
            add_header X-Accel-Redirect /protected-r;
            return 200 "";
        }
END
    server => <<"END");
        add_header X-Iid \$pit_integration_id always;
        add_header X-Acct \$pit_account_id always;
        add_header X-Scopes \$pit_scopes always;
        add_header X-Role \$pit_token_role always;
        add_header X-Expires-In \$pit_token_expires_in always;
        add_header X-Status \$pit_auth_status always;
        location /api/ {
            pit_auth on;
            proxy_pass %%UP%%;
        }
        location /show-token/ {
            pit_auth on;
            pit_auth_hide_token off;
            proxy_pass %%UP%%;
        }
        location /plain/ {
            pit_auth on;
            pit_auth_annotate off;
            proxy_pass %%UP%%;
        }
        location /w/ {
            pit_auth on;
            pit_auth_scope contacts.write;
            proxy_pass %%UP%%;
        }
        location /any-allow/ {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            pit_auth on;
            proxy_pass %%UP%%;
        }
        location /any-deny/ {
            satisfy any;
            deny all;
            pit_auth on;
            proxy_pass %%UP%%;
        }
        location /all-deny/ {
            deny all;
            pit_auth on;
            proxy_pass %%UP%%;
        }
        location /any-basic/ {
            satisfy any;
            auth_basic "api";
            auth_basic_user_file $dir/htpasswd;
            pit_auth on;
            proxy_pass %%UP%%;
        }
        location /public-rewrite {
            rewrite ^ /w/rewritten last;
        }
        location /nf/ {
            pit_auth on;
            root $dir/none;
            error_page 404 = /w/from-error-page;
        }
        location /tf/ {
            pit_auth on;
            root $dir;
            try_files /none \@named;
        }
        location \@named {
            pit_auth on;
            pit_auth_scope contacts.write;
            proxy_pass %%UP%%;
        }
        location /xaccel-w { pit_auth on; proxy_pass %%UP%%; }
        location /xaccel-r { pit_auth on; proxy_pass %%UP%%; }
        location /protected-w {
            internal;
            pit_auth on;
            pit_auth_scope contacts.write;
            proxy_pass %%UP%%;
        }
        location /protected-r {
            internal;
            pit_auth on;
            pit_auth_scope contacts.readonly;
            proxy_pass %%UP%%;
        }
        location /sub/ {
            auth_request /api/sub;
            proxy_pass %%UP%%;
        }
END

my ($id, $tok) = $t->token(account => 'acct1',
                           scopes => ['contacts.readonly', 'contacts.write']);
my ($rid, $rtok) = $t->token(account => 'acct1',
                             scopes => ['contacts.readonly']);

my $r = $t->bearer('/api/x', $tok);
my $e = PitModule::echoed($r);
is($r->{status}, 200, 'valid token: 200');
is($e->{'x-pit-integration-id'}, $id, 'upstream sees X-Pit-Integration-Id');
is($e->{'x-pit-account-id'}, 'acct1', 'upstream sees X-Pit-Account-Id');
is($e->{'x-pit-scopes'}, 'contacts.readonly contacts.write',
   'upstream sees X-Pit-Scopes, space-separated');
is($e->{authorization}, '', 'Authorization hidden from the upstream');
is(PitTest::HTTP::header($r, 'X-Iid'), $id, '$pit_integration_id');
is(PitTest::HTTP::header($r, 'X-Acct'), 'acct1', '$pit_account_id');
is(PitTest::HTTP::header($r, 'X-Scopes'), 'contacts.readonly contacts.write',
   '$pit_scopes');
is(PitTest::HTTP::header($r, 'X-Role'), 'primary', '$pit_token_role');
ok(!defined PitTest::HTTP::header($r, 'X-Expires-In'),
   '$pit_token_expires_in empty for a primary token');

# spoofing: any case, duplicates, spread over several list parts
my @filler = map { ("X-Filler-$_" => $_) } 1 .. 30;
$r = $t->bearer('/api/x', $tok,
    'X-Pit-Integration-Id' => 'spoofed', 'x-pit-account-id' => 'spoofed',
    @filler[0 .. 19], 'X-PIT-SCOPES' => 'admin', 'X-Pit-Evil' => '1',
    @filler[20 .. 59], 'x-pit-evil' => '2',
    'X-Pit-Integration-Id' => 'spoofed2', 'X-Other' => 'kept');
$e = PitModule::echoed($r);
is($e->{'x-pit-integration-id'}, $id, 'spoofed integration id replaced');
is($e->{'x-pit-account-id'}, 'acct1', 'spoofed account replaced');
is($e->{'x-pit-scopes'}, 'contacts.readonly contacts.write',
   'spoofed scopes replaced');
is($e->{'x-pit-evil'}, '', 'other X-Pit-* headers removed, duplicates too');
is($e->{'x-other'}, 'kept', 'other headers kept');

$r = $t->get('/plain/x', Authorization => "Bearer $tok",
             'X-Pit-Account-Id' => 'spoofed');
$e = PitModule::echoed($r);
is($r->{status}, 200, 'annotate off: 200');
is($e->{'x-pit-account-id'}, '', 'annotate off: spoofed header still removed');
is($e->{'x-pit-integration-id'}, '', 'annotate off: no annotation');

$r = $t->bearer('/show-token/x', $tok);
is(PitModule::echoed($r)->{authorization}, "Bearer $tok",
   'hide_token off: Authorization passed on');

# satisfy and other access modules
is($t->get('/any-allow/x')->{status}, 200, 'satisfy any: allow passes');
is($t->bearer('/any-deny/x', $tok)->{status}, 200,
   'satisfy any: a token passes a deny');
$r = $t->get('/any-deny/x');
is($r->{status}, 401, 'satisfy any: neither passes: 401');
is(PitTest::HTTP::header($r, 'WWW-Authenticate'), 'Bearer realm="api"',
   'satisfy any: our challenge');
is($t->bearer('/all-deny/x', $tok)->{status}, 403,
   'satisfy all: deny wins over a token');
is($t->get('/any-basic/x', Authorization => 'Basic YWxpY2U6c2VjcmV0')
     ->{status}, 200, 'satisfy any: auth_basic passes');
is($t->get('/any-basic/x', Authorization => 'Basic YWxpY2U6d3Jvbmc=')
     ->{status}, 401, 'satisfy any: wrong basic, no token: 401');

# internal redirects never bypass
is($t->get('/public-rewrite')->{status}, 401, 'rewrite last: checked');
is($t->bearer('/public-rewrite', $rtok)->{status}, 403,
   'rewrite last: scopes of the target');
is($t->bearer('/public-rewrite', $tok)->{status}, 200,
   'rewrite last: allowed');
is($t->bearer('/nf/x', $rtok)->{status}, 403,
   'error_page: the target location checks again');
$r = $t->bearer('/nf/x', $tok);
is($r->{status}, 200, 'error_page: allowed');
is(PitModule::echoed($r)->{'x-pit-integration-id'}, $id,
   'error_page: annotated once more');
is($t->bearer('/tf/x', $rtok)->{status}, 403, 'try_files: checked again');
is($t->bearer('/tf/x', $tok)->{status}, 200, 'try_files: allowed');
is($t->bearer('/xaccel-w', $rtok)->{status}, 403,
   'X-Accel-Redirect: checked again');
$r = $t->bearer('/xaccel-r', $rtok);
is($r->{status}, 200, 'X-Accel-Redirect: allowed');
is(PitModule::echoed($r)->{uri}, '/protected-r', 'X-Accel-Redirect: target');

# subrequests skip the access phase, as with nginx's own access modules
is($t->bearer('/sub/x', $tok)->{status}, 200, 'auth_request subrequest');

# keepalive: two requests on one connection
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port)
    or die;
print $s "GET /api/1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer $tok\r\n\r\n"
       . "GET /api/2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
my $raw = do { local $/; <$s> };
my @st = $raw =~ m{^HTTP/1\.1 (\d+)}mg;
is("@st", '200 401', 'keepalive: 200 then 401 on one connection');

# HTTP/2
SKIP: {
    my ($rc, $out) = PitTest::run_cmd(['curl', '-sS', '--http2-prior-knowledge',
        '-H', "Authorization: Bearer $tok", '-H', 'X-Pit-Evil: 1',
        "http://127.0.0.1:$h2/api/h2"]);
    skip 'curl without HTTP/2', 3 if $rc == 1 || $out eq '';
    like($out, qr/^x-pit-integration-id=\Q$id\E$/mi, 'HTTP/2: annotated');
    like($out, qr/^x-pit-evil=$/mi, 'HTTP/2: spoofed header removed');
    ($rc, $out) = PitTest::run_cmd(['curl', '-sS', '--http2-prior-knowledge',
        '-o', '/dev/null', '-w', '%{http_code}', "http://127.0.0.1:$h2/api/h2"]);
    is($out, '401', 'HTTP/2: 401 without a token');
}


done_testing();
