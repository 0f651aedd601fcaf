#!/usr/bin/perl
# Security review, finding 1: binding the token to an account taken from
# the query.  $arg_locationId is nginx's first exact-name match, while an
# upstream may read another spelling (case, %49 for I, [] suffix, ';'
# separator, '.' for '_') or the last occurrence.  pit_auth_account_arg
# NAME parses the raw query itself: exactly one occurrence under any such
# spelling binds the account; more than one is 400 "ambiguous"; an
# undecodable name or value is 400 too; absent is 403 wrong_account.
# Refused requests never reach the upstream (a raw TCP upstream records the
# exact bytes).  Also over HTTP/2 and after an internal redirect into a
# named location, and nginx -t warns about pit_auth_account $arg_*.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp ();
use PitTest;
use PitModule;

my $raw = PitModule::RawUpstream->new;
my $R = $raw->url;
my $h2 = PitTest::free_port();
my $root = File::Temp::tempdir(CLEANUP => 1);
chmod 0755, $root;     # stat()ed by the worker (user nobody)

my $t = PitModule->new(may_fail => 1,
    listen_extra => "listen 127.0.0.1:$h2 http2;",
    server => <<"END");
        add_header X-Status \$pit_auth_status always;
        location /contacts/ {
            pit_auth on;
            pit_auth_account_arg locationId;
            proxy_pass $R;
        }
        location /snake/ {
            pit_auth on;
            pit_auth_account_arg location_id;
            proxy_pass $R;
        }
        location /api/ {
            root $root;
            try_files /nonexistent \@api;
        }
        location \@api {
            pit_auth on;
            pit_auth_account_arg locationId;
            proxy_pass $R;
        }
END
ok(!$t->start_error, 'nginx starts with pit_auth_account_arg')
    or diag($t->start_error);

my (undef, $TA) = $t->token(account => 'locA',
                            scopes => ['contacts.readonly']);

my $B = '{"statusCode":%d,"message":"%s","error":"%s"}' . "\n";
my %BODY = (
    dup => sprintf($B, 400, 'The account parameter must appear exactly once.',
                   'Bad Request'),
    enc => sprintf($B, 400, 'The account parameter is not well encoded.',
                   'Bad Request'),
    acct => sprintf($B, 403, 'The token does not have access to this '
                    . 'location.', 'Forbidden'),
);

# check(name, path with query, 'ok' | 'dup' | 'enc' | 'acct')
sub check {
    my ($name, $path, $want) = @_;
    $raw->clear;
    my $r = $t->bearer($path, $TA);
    subtest $name => sub {
        if ($want eq 'ok') {
            is($r->{status}, 200, 'status 200');
            is(PitTest::HTTP::header($r, 'X-Status'), 'ok',
               '$pit_auth_status ok');
            is($raw->count, 1, 'the upstream got it');
            my ($line) = split /\r\n/, $raw->all;
            # proxy_http_version's default is 1.1 since nginx 1.29
            $line =~ s{ HTTP/1\.[01]$}{};
            is($line, "GET $path",
               'the upstream got exactly that path and query');
            return;
        }
        my ($status, $st) = $want eq 'acct' ? (403, 'wrong_account')
                                            : (400, 'ambiguous');
        is($r->{status}, $status, "status $status");
        is(PitTest::HTTP::header($r, 'X-Status'), $st, "\$pit_auth_status $st");
        is($r->{body}, $BODY{$want}, 'body');
        is($raw->count, 0, 'the upstream received nothing');
    };
}

# the review's cases: more than one spelling of the parameter
check('case variant and exact name: ambiguous',
      '/contacts/x?locationid=locA&locationId=locB', 'dup');
check('the same name twice: ambiguous',
      '/contacts/x?locationId=locA&locationId=locB', 'dup');
check('the same name twice, own id last: ambiguous',
      '/contacts/x?locationId=locB&locationId=locA', 'dup');
check('the same name twice, equal values: still ambiguous',
      '/contacts/x?locationId=locA&locationId=locA', 'dup');
check('percent-encoded letter in the name: ambiguous',
      '/contacts/x?location%49d=locB&locationId=locA', 'dup');
check('percent-encoded lowercase letter in the name: ambiguous',
      '/contacts/x?%6Cocationid=locB&locationId=locA', 'dup');
check('";" as a separator: ambiguous',
      '/contacts/x?locationId=locA;locationId=locB', 'dup');
check('NAME[] and NAME: ambiguous',
      '/contacts/x?locationId[]=locB&locationId=locA', 'dup');
check('NAME%5B%5D and NAME: ambiguous',
      '/contacts/x?locationId%5B%5D=locB&locationId=locA', 'dup');
check('NAME[0] and NAME: ambiguous',
      '/contacts/x?locationId[0]=locB&locationId=locA', 'dup');
check('upper case and NAME: ambiguous',
      '/contacts/x?LOCATIONID=locB&locationId=locA', 'dup');
check('two variants, no exact name: ambiguous',
      '/contacts/x?LocationID=locA&location%69d=locB', 'dup');

# '+', '%20', '.', '_' are one character in names
check('"." for "_": ambiguous',
      '/snake/x?location.id=locB&location_id=locA', 'dup');
check('"+" for "_": ambiguous',
      '/snake/x?location+id=locB&location_id=locA', 'dup');
check('"%20" for "_": ambiguous',
      '/snake/x?location%20id=locB&location_id=locA', 'dup');
check('"%5F" for "_": ambiguous',
      '/snake/x?location%5Fid=locB&location_id=locA', 'dup');
check('"%2E" for "_", upper case: ambiguous',
      '/snake/x?LOCATION%2EID=locB&location_id=locA', 'dup');
check('"." spelling alone binds the account',
      '/snake/x?location.id=locA', 'ok');
check('"." spelling alone, another account: 403',
      '/snake/x?location.id=locB', 'acct');

# undecodable names and values
check('value %zz: not well encoded', '/contacts/x?locationId=%zz', 'enc');
check('value with a cut %4: not well encoded',
      '/contacts/x?locationId=locA%4', 'enc');
check('value with %00: not well encoded',
      '/contacts/x?locationId=locA%00', 'enc');
check('value with %0A: not well encoded',
      '/contacts/x?locationId=locA%0A', 'enc');
check('value with %0d%0a: not well encoded',
      '/contacts/x?locationId=locA%0d%0aX-Pit-Account-Id:%20locB', 'enc');
check('value with %1F: not well encoded',
      '/contacts/x?locationId=locA%1F', 'enc');
check('name with %zz: not well encoded',
      '/contacts/x?location%zzd=locB&locationId=locA', 'enc');

# exactly once: the decoded value is the account
check('own account: 200, the query passed on as is',
      '/contacts/x?locationId=locA', 'ok');
check('own account, a letter percent-encoded: 200',
      '/contacts/x?locationId=loc%41', 'ok');
check('own account, another case of the name: 200',
      '/contacts/x?x=1&LOCATIONID=locA', 'ok');
check('own account next to a ";": ambiguous (an "&"-only upstream reads '
      . 'no locationId)', '/contacts/x?a=1;locationId=locA;b=2', 'dup');
check('own account, ";" elsewhere in the query: 200',
      '/contacts/x?locationId=locA&a=1;b=2', 'ok');
check('own account beside lookalike names: 200',
      '/contacts/x?xlocationId=locB&locationIdx=locB&locationId=locA', 'ok');
check('another account: 403', '/contacts/x?locationId=locB', 'acct');
check('another account, name in another case: 403',
      '/contacts/x?locationid=locB', 'acct');
check('the value is not case-folded: 403', '/contacts/x?locationId=LOCA',
      'acct');
check('"+" in the value is a blank: 403', '/contacts/x?locationId=loc+A',
      'acct');
check('absent: 403', '/contacts/x', 'acct');
check('absent, other parameters: 403', '/contacts/x?x=1&y=locA', 'acct');
check('empty value: 403', '/contacts/x?locationId=', 'acct');

# internal redirect into a named location
check('try_files to a named location: ambiguous',
      '/api/x?locationId=locA&locationId=locB', 'dup');
check('try_files to a named location: ";" ambiguous',
      '/api/x?locationId=locA;locationId=locB', 'dup');
check('try_files to a named location: own account 200',
      '/api/x?locationId=locA', 'ok');
check('try_files to a named location: another account 403',
      '/api/x?locationId=locB', 'acct');
check('try_files to a named location: absent 403', '/api/x', 'acct');

# the cause is in error.log at [info]
my @lines = grep { /pit_auth: ambiguous/ } split /\n/, $t->error_log;
ok(scalar(grep { /\[info\]/ } @lines),
   'error.log: [info] lines with "pit_auth: ambiguous"');
my %causes = map { (s/^.*pit_auth: ambiguous//r =~ s/,? (client|request|host|server):.*//r) => 1 } @lines;
cmp_ok(scalar(keys %causes), '>=', 2,
       'error.log: the lines name the cause (a duplicate, a bad encoding)')
    or diag(join "\n", @lines[0 .. 4]);

# HTTP/2
SKIP: {
    my @curl = ('curl', '-sS', '--http2-prior-knowledge', '-o', '/dev/null',
                '-w', '%{http_code}', '-H', "Authorization: Bearer $TA");
    my ($rc, $out) = PitTest::run_cmd([@curl, "http://127.0.0.1:$h2/open"]);
    skip 'curl without HTTP/2', 4 if $rc == 1 || $out eq '';
    $raw->clear;
    (undef, $out) = PitTest::run_cmd([@curl,
        "http://127.0.0.1:$h2/contacts/x?locationid=locA&locationId=locB"]);
    is($out, '400', 'HTTP/2: two spellings: 400');
    (undef, $out) = PitTest::run_cmd([@curl,
        "http://127.0.0.1:$h2/contacts/x?locationId=locA;locationId=locB"]);
    is($out, '400', 'HTTP/2: ";" separated twice: 400');
    is($raw->count, 0, 'HTTP/2: the upstream received nothing');
    (undef, $out) = PitTest::run_cmd([@curl,
        "http://127.0.0.1:$h2/contacts/x?locationId=locA"]);
    is($out, '200', 'HTTP/2: own account: 200');
}

# nginx -t warns about pit_auth_account $arg_*
my $n = PitTest::Nginx->new(no_start => 1, http => <<"END");
    pit_auth_redis 127.0.0.1:${\ $t->redis->port };
    server {
        listen 127.0.0.1:%%PORT%%;
        location /q/ {
            pit_auth on;
            pit_auth_account \$arg_locationId;
            proxy_pass $R;
        }
    }
END
my ($rc, $out, $err) = $n->test_conf;
is($rc, 0, 'nginx -t: pit_auth_account $arg_locationId is still accepted');
like($err, qr/\[warn\].*pit_auth_account_arg/,
     'nginx -t: a [warn] pointing at pit_auth_account_arg');

is(join("\n", $t->bad_log_lines), '', 'no [alert], [crit] or [emerg]');

done_testing();
