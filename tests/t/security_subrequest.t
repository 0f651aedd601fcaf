#!/usr/bin/perl
# Security review, finding 5: subrequests skipped the module (they skip
# nginx's access phase), so a pit_auth location reached by auth_request,
# an SSI include or a mirror was open to anyone.  Subrequests into a
# pit_auth location are now checked (in the rewrite phase, before a
# "return"), and X-Pit-* (underscore spellings too) and, with
# pit_auth_hide_token on, Authorization are stripped there as well.  A raw
# TCP upstream records what the protected locations really received.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp ();
use Time::HiRes qw(sleep);
use PitTest;
use PitModule;

my ($rc, $out, $V) = PitTest::run_cmd([PitTest::nginx_bin(), '-V']);
my %has = (
    auth_request => $V =~ /--with-http_auth_request_module/,
    ssi => $V !~ /--without-http_ssi_module/,
    mirror => $V !~ /--without-http_mirror_module/,
);

my $raw = PitModule::RawUpstream->new;
my $R = $raw->url;

my $dir = File::Temp::tempdir(CLEANUP => 1);
chmod 0755, $dir;     # read by the worker (user nobody)
open my $fh, '>', "$dir/page.html" or die;
print $fh "before\n<!--# include virtual=\"/prot/x\" -->\nafter\n";
close $fh;
chmod 0644, "$dir/page.html";

my $conf = <<"END";
        underscores_in_headers on;
        add_header X-Status \$pit_auth_status always;
        location /prot/ {
            pit_auth on;
            proxy_pass $R;
        }
END
$conf .= <<"END" if $has{auth_request};
        location /secret/ {
            auth_request /pit-check;
            proxy_pass %%UP%%;
        }
        location = /pit-check {
            internal;
            pit_auth on;
            pit_auth_scope contacts.readonly;
            return 204;
        }
END
$conf .= <<"END" if $has{ssi};
        location = /page.html {
            ssi on;
            root $dir;
        }
END
$conf .= <<"END" if $has{mirror};
        location /m/ {
            mirror /mirror;
            proxy_pass %%UP%%;
        }
        location = /mirror {
            internal;
            pit_auth on;
            proxy_pass $R\$request_uri;
        }
END

my $t = PitModule->new(server => $conf);
my ($id, $TA) = $t->token(account => 'locA', scopes => ['contacts.readonly']);
my (undef, $TW) = $t->token(account => 'locA', scopes => ['contacts.write']);
my $UNKNOWN = 'pit-0badc0de-1234-4321-8765-0123456789ab';

my @SPOOF = ('X-Pit-Account-Id' => 'evil', 'X_Pit_Account_Id' => 'evil2',
             'X-Pit-Scopes' => 'admin', 'x_pit_integration_id' => 'EVIL',
             'X-Pit-Evil' => '1');

# the raw request's x-pit-* lines and whether it has Authorization
sub pit_lines {
    my ($req) = @_;
    return sort { lc $a cmp lc $b }
           map { "$_->[0]: " . ($_->[1] // '') }
           grep { $_->[0] =~ /^x[-_]pit[-_]/i }
           PitModule::RawUpstream::header_lines($req);
}
my $ANNOTATED = join ' | ', "X-Pit-Account-Id: locA",
    "X-Pit-Integration-Id: $id", "X-Pit-Scopes: contacts.readonly";

# (a) auth_request
SKIP: {
    skip 'nginx without auth_request', 6 unless $has{auth_request};
    my $r = $t->get('/secret/x');
    is($r->{status}, 401, 'auth_request, no token: 401');
    is(PitTest::HTTP::header($r, 'WWW-Authenticate'), 'Bearer realm="api"',
       'auth_request, no token: our WWW-Authenticate');
    unlike($r->{body}, qr/^uri=/m,
           'auth_request, no token: the upstream saw nothing');
    is($t->bearer('/secret/x', $UNKNOWN)->{status}, 401,
       'auth_request, unknown token: 401');
    is($t->bearer('/secret/x', $TW)->{status}, 403,
       'auth_request, token without the scope: 403');
    $r = $t->bearer('/secret/x', $TA);
    ok($r->{status} == 200 && $r->{body} =~ m{^uri=/secret/x$}m,
       'auth_request, valid token: 200 from the upstream');
}

# (b) SSI include of a pit_auth location
SKIP: {
    skip 'nginx without ssi', 6 unless $has{ssi};
    $raw->clear;
    my $r = $t->get('/page.html');
    is($r->{status}, 200, 'SSI, no token: the page itself is served');
    unlike($r->{body}, qr/raw-ok/, 'SSI, no token: nothing included');
    is($raw->count, 0, 'SSI, no token: the raw upstream received nothing');
    $raw->clear;
    $r = $t->get('/page.html', Authorization => "Bearer $UNKNOWN");
    is($raw->count, 0,
       'SSI, unknown token: the raw upstream received nothing');
    $raw->clear;
    $r = $t->get('/page.html', Authorization => "Bearer $TA", @SPOOF);
    like($r->{body}, qr/raw-ok/, 'SSI, valid token: included');
    my $req = $raw->all;
    subtest 'SSI, valid token: what the upstream received' => sub {
        is(join(' | ', pit_lines($req)), $ANNOTATED,
           'annotated, nothing spoofed');
        unlike($req, qr/^Authorization:/mi, 'no Authorization');
    };
}

# (c) mirror into a pit_auth location
SKIP: {
    skip 'nginx without mirror', 6 unless $has{mirror};
    $raw->clear;
    my $r = $t->get('/m/x');
    is($r->{status}, 200, 'mirror, no token: the main request is served');
    sleep 0.5;
    is($raw->count, 0, 'mirror, no token: the raw upstream received nothing');
    $raw->clear;
    $t->get('/m/x', Authorization => "Bearer $UNKNOWN", @SPOOF);
    sleep 0.5;
    is($raw->count, 0,
       'mirror, unknown token: the raw upstream received nothing');
    $raw->clear;
    $r = $t->get('/m/x', Authorization => "Bearer $TA", @SPOOF);
    is($r->{status}, 200, 'mirror, valid token: 200');
    is($raw->wait_for(1, 2), 1, 'mirror, valid token: mirrored once');
    my $req = $raw->all;
    subtest 'mirror, valid token: what the upstream received' => sub {
        like($req, qr{^GET /m/x HTTP/1\.[01]\r\n}, 'the request line');
        is(join(' | ', pit_lines($req)), $ANNOTATED,
           "the module's X-Pit-* annotations, nothing spoofed");
        unlike($req, qr/^X-Pit-Account-Id:\s*evil/mi,
               'no client-spoofed X-Pit-Account-Id');
        unlike($req, qr/^Authorization:/mi, 'no Authorization');
    };
}

is(join("\n", $t->bad_log_lines), '', 'no [alert], [crit] or [emerg]');

done_testing();
