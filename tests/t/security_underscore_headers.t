#!/usr/bin/perl
# Security review, finding 3: with underscores_in_headers on (or
# ignore_invalid_headers off) a client header X_Pit_Account_Id passed the
# module's X-Pit-* filter, and an upstream that reads '_' as '-' (CGI,
# PHP, Django, many frameworks) took it for X-Pit-Account-Id.  Client
# headers whose name is x-pit-* once '_' is read as '-', in any case, must
# never reach the upstream of a pit_auth location; the module's own three
# annotations carry the real values, and nothing else of that shape
# arrives.  Checked on the bytes a raw TCP upstream receives, with
# annotation on and off, over HTTP/1.1 and HTTP/2.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use PitTest;
use PitModule;

my $raw = PitModule::RawUpstream->new;
my $R = $raw->url;
my $p2 = PitTest::free_port();
my $h2 = PitTest::free_port();

my $LOCS = <<"END";
        add_header X-Status \$pit_auth_status always;
        location /u/ {
            pit_auth on;
            proxy_pass $R;
        }
        location /ua/ {
            pit_auth on;
            pit_auth_annotate off;
            proxy_pass $R;
        }
        location /show/ {
            pit_auth on;
            pit_auth_hide_token off;
            proxy_pass $R;
        }
END

my $t = PitModule->new(listen_extra => "listen 127.0.0.1:$h2 http2;",
    server => "        underscores_in_headers on;\n$LOCS",
    http => <<"END");
    server {
        listen 127.0.0.1:$p2;
        ignore_invalid_headers off;
$LOCS
    }
END

my ($id, $TA) = $t->token(account => 'locA', scopes => ['contacts.readonly']);

my @SPOOF = (
    'X_Pit_Account_Id'     => 'locB',
    'x_pit_scopes'         => 'contacts.write',
    'X-Pit_Integration_Id' => 'EVIL',
    'X_PIT-EVIL'           => '1',
    'X-Pit-Account_Id'     => 'locB2',
    'x_PIT_account_ID'     => 'locB3',
    'X-PIT_SCOPES'         => 'admin',
    'X-Pit-Account-Id'     => 'locB4',
    'X_Other_Thing'        => 'kept',
);

# x-pit-* header lines (either separator) the upstream got, as "Name: value"
sub pit_lines {
    my ($rawreq) = @_;
    return map { "$_->[0]: " . ($_->[1] // '') }
           grep { $_->[0] =~ /^x[-_]pit[-_]/i }
           PitModule::RawUpstream::header_lines($rawreq);
}

sub check {
    my ($name, $port, $path, $annotate, @extra) = @_;
    $raw->clear;
    my $r = PitTest::HTTP::request($port, "GET $path",
        headers => [Authorization => "Bearer $TA", @SPOOF, @extra]);
    subtest $name => sub {
        is($r->{status}, 200, 'status 200');
        is($raw->count, 1, 'the upstream got the request');
        my $req = $raw->all;
        my @got = sort { lc $a cmp lc $b } pit_lines($req);
        my @want = $annotate
            ? ("X-Pit-Account-Id: locA", "X-Pit-Integration-Id: $id",
               "X-Pit-Scopes: contacts.readonly")
            : ();
        is(join(' | ', @got), join(' | ', @want),
           $annotate ? 'only the module\'s three X-Pit-* lines, real values'
                     : 'no X-Pit-* line at all (annotate off)');
        unlike($req, qr/^x[-_]pit[-_][^:]*:\s*(locB\d?|EVIL|admin|contacts\.write)\r?$/mi,
               'no spoofed value under any spelling');
        like($req, qr/^X_Other_Thing: kept\r?$/m,
             'an unrelated underscore header still passes');
    };
}

check('underscores_in_headers on: spoofed, annotated', $t->port, '/u/x', 1);
check('underscores_in_headers on: spoofed, annotate off', $t->port,
      '/ua/x', 0);
check('underscores_in_headers on: hide_token off', $t->port, '/show/x', 1);
check('ignore_invalid_headers off: spoofed, annotated', $p2, '/u/x', 1);
check('ignore_invalid_headers off: spoofed, annotate off', $p2, '/ua/x', 0);
check('ignore_invalid_headers off: odd names too', $p2, '/u/x', 1,
      'X-Pit-Account-Id_' => 'locB', 'x_pit_' => 'locB');

# a spoofed header without a valid token reaches nothing
$raw->clear;
my $r = PitTest::HTTP::request($t->port, 'GET /u/x',
    headers => ['X_Pit_Account_Id' => 'locA']);
is($r->{status}, 401, 'no token, underscore header: 401');
is($raw->count, 0, '... the upstream received nothing');

# HTTP/2 reads underscores the same way
SKIP: {
    $raw->clear;
    my ($rc, $out) = PitTest::run_cmd(['curl', '-sS',
        '--http2-prior-knowledge', '-o', '/dev/null', '-w', '%{http_code}',
        '-H', "Authorization: Bearer $TA", '-H', 'X_Pit_Account_Id: locB',
        '-H', 'x_pit_scopes: contacts.write', '-H', 'X-Pit_Evil: 1',
        "http://127.0.0.1:$h2/ua/h2"]);
    skip 'curl without HTTP/2', 2 if $rc == 1 || $out eq '';
    is($out, '200', 'HTTP/2: 200');
    is(join(' | ', pit_lines($raw->all)), '',
       'HTTP/2, annotate off: no x-pit-* line reached the upstream');
}

is(join("\n", $t->bad_log_lines), '', 'no [alert], [crit] or [emerg]');

done_testing();
