#!/usr/bin/perl
# The admin API's request bodies: malformed JSON, wrong types, a key twice,
# invalid UTF-8, unknown fields, text the core's rule refuses, unknown
# scopes, huge bodies (declared and chunked) -> 400/413 naming the field,
# and nothing stored.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use PitTest;
use PitApi;

my $t = PitApi->new(users => { alice => 'a-pw' });
my $r = $t->redis;
$t->pitctl(qw(admin add alice --account acct1));

my $p = '/api/v1/accounts/acct1/integrations';
my $res = $t->call(POST => $p, user => 'alice',
                   json => { name => 'keep', scopes => ['contacts.readonly'] });
my $id = $res->{json}{id};
ok $id, 'one integration';

my $before = $r->dump_all;

my @cases = (
    ['not JSON',           '{"name": "x", ',                         400, ''],
    ['an array',           '["x"]',                                  400, ''],
    ['trailing garbage',   '{"name":"x","scopes":["contacts.readonly"]} x', 400, ''],
    ['a key twice',        '{"name":"x","name":"y","scopes":["contacts.readonly"]}', 400, 'name'],
    ['invalid UTF-8',      qq({"name":"x\xff","scopes":["contacts.readonly"]}), 400, 'name'],
    ['overlong UTF-8',     qq({"name":"\xc0\xaf","scopes":["contacts.readonly"]}), 400, 'name'],
    ['a NUL escape',       '{"name":"a\\u0000b","scopes":["contacts.readonly"]}', 400, 'name'],
    ['a lone surrogate',   '{"name":"\\ud800","scopes":["contacts.readonly"]}', 400, 'name'],
    ['name a number',      '{"name":5,"scopes":["contacts.readonly"]}', 400, 'name'],
    ['scopes a string',    '{"name":"x","scopes":"contacts.readonly"}', 400, 'scopes'],
    ['a scope a number',   '{"name":"x","scopes":["contacts.readonly",7]}', 400, 'scopes[1]'],
    ['no scopes',          '{"name":"x","scopes":[]}',               400, 'scopes'],
    ['no name',            '{"scopes":["contacts.readonly"]}',       400, 'name'],
    ['an unknown field',   '{"name":"x","scopes":["contacts.readonly"],"admin":true}', 400, 'admin'],
    ['account_type bad',   '{"name":"x","scopes":["contacts.readonly"],"account_type":"x"}', 400, 'account_type'],
    ['an unknown scope',   '{"name":"x","scopes":["contacts.raedonly"]}', 400, 'scopes[0]'],
    ['a bad scope name',   '{"name":"x","scopes":["a b"]}',           400, 'scopes[0]'],
    ['a bidi control',     qq({"name":"x\xe2\x80\xaey","scopes":["contacts.readonly"]}), 400, 'name'],
    ['a blank name',       '{"name":"   ","scopes":["contacts.readonly"]}', 400, 'name'],
    ['a long name',        '{"name":"' . ('n' x 201) . '","scopes":["contacts.readonly"]}', 400, 'name'],
    ['a taken name',       '{"name":"KEEP","scopes":["contacts.readonly"]}', 409, 'name'],
    ['an empty body',      '',                                        400, ''],
);

my %reason = (400 => 'Bad Request', 409 => 'Conflict');
for my $c (@cases) {
    my ($what, $body, $st, $field) = @$c;
    $res = $t->call(POST => $p, user => 'alice', body => $body,
                    ctype => 'application/json');
    is $res->{status}, $st, "create, $what: $st";
    is $res->{json}{field} // '', $field, "  names '$field'";
    # HighLevel's body: statusCode, message, error (the reason phrase)
    is $res->{json}{statusCode}, $st, "  statusCode $st";
    is $res->{json}{error}, $reason{$st}, "  error '$reason{$st}'";
    like $res->{json}{message}, qr/^\Q$field\E: /, "  the message starts "
         . "with '$field: '" if $st == 400 && length $field;
}

# exactly the nginx module's form: those three members first, compact
$res = $t->call(POST => $p, user => 'alice',
                json => { name => '   ', scopes => ['contacts.readonly'] });
like $res->{body}, qr/^\{"statusCode":400,"message":"name: must contain a visible character[^"]*","error":"Bad Request","code":"invalid","field":"name"\}\n\z/,
     'the error body: {"statusCode":400,"message":"name: ...",'
     . '"error":"Bad Request","code":...,"field":"name"}';

my @edits = (
    ['nothing to change', '{}',                          400, ''],
    ['scopes null',       '{"scopes":null}',             400, 'scopes'],
    ['account_type',      '{"account_type":"company"}',  400, 'account_type'],
    ['a key twice',       '{"description":"a","description":"b"}', 400, 'description'],
);
for my $c (@edits) {
    my ($what, $body, $st, $field) = @$c;
    $res = $t->call(PATCH => "$p/$id", user => 'alice', body => $body,
                    ctype => 'application/json');
    is $res->{status}, $st, "edit, $what: $st";
    is $res->{json}{field} // '', $field, "  names '$field'";
}

my @rot = (
    ['no mode',          '{}',                               'mode'],
    ['mode sideways',    '{"mode":"sideways"}',              'mode'],
    ['overlap with now', '{"mode":"now","overlap":"1d"}',    'overlap'],
    ['bad overlap',      '{"mode":"later","overlap":"soon"}', 'overlap'],
    ['mode a bool',      '{"mode":true}',                    'mode'],
);
for my $c (@rot) {
    my ($what, $body, $field) = @$c;
    $res = $t->call(POST => "$p/$id/rotate", user => 'alice', body => $body,
                    ctype => 'application/json');
    is $res->{status}, 400, "rotate, $what: 400";
    is $res->{json}{field} // '', $field, "  names '$field'";
}
$res = $t->call(POST => "$p/$id/expire-now", user => 'alice',
                json => { now => 1 });
is $res->{status}, 400, 'expire-now with a field: 400';

# huge bodies: declared (refused on the header) and through nginx
my $huge = '{"name":"' . ('x' x 70000) . '","scopes":["contacts.readonly"]}';
$res = $t->call(POST => $p, user => 'alice', body => $huge,
                ctype => 'application/json');
is $res->{status}, 413, 'a 70 KB body through nginx: 413';

# chunked, straight to pitctl serve with an admin token (any peer may
# send one); pitctl serve may answer and close before the last chunk
local $SIG{PIPE} = 'IGNORE';
my ($rc, $out) = $t->pitctl(qw(--json admin token alice));
my ($pat) = $out =~ /"token"\s*:\s*"(pat-[^"]+)"/;
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                              PeerPort => $t->serve_port) or die;
$s->print("POST $p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
          . "Authorization: Bearer $pat\r\nContent-Type: application/json\r\n"
          . "Transfer-Encoding: chunked\r\n\r\n");
for (1 .. 20) {
    my $chunk = 'y' x 4000;
    $s->print(sprintf("%x\r\n%s\r\n", length $chunk, $chunk));
}
$s->print("0\r\n\r\n");
my $raw = '';
while (sysread $s, my $buf, 65536) { $raw .= $buf; }
like $raw, qr{^HTTP/1\.1 413 }, 'an 80 KB chunked body: 413';

($rc) = $t->pitctl(qw(admin token-revoke alice));
my $after = $r->dump_all;
# the admin token's record changed; integrations did not
my @keys_before = sort grep { /^pit:(int|tok|name|ints):/ } split /\n/, $before;
my @keys_after = sort grep { /^pit:(int|tok|name|ints):/ } split /\n/, $after;
is_deeply \@keys_after, \@keys_before, 'no integration key was written';
is $r->raw('GET', "pit:int:$id"), (grep { /"id":"$id"/ } split /\n/, $before)[0],
   'the integration is as it was';
is scalar(() = $r->raw('XRANGE', 'pit:audit', '-', '+') =~ /\bcreate\b/g), 1,
   'one create in the audit stream';

is_deeply [ $t->schema_errors ], [], 'every answer matches its schema';
done_testing;
