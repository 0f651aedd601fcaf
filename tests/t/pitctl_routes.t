#!/usr/bin/perl
# pitctl routes --openapi FILE... (issue #5, part 3): the table the module
# enforces, as text and JSON, the route one request gets, and the same
# refusals as nginx -t.  No Redis is involved.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP ();
use PitTest;

my $data = PitTest::top() . '/tests/data/highlevel';
my @all = map { "$data/$_.json" } qw(contacts calendars conversations);

sub pitctl { PitTest::Pitctl::run(undef, @_) }

my ($rc, $out, $err) = pitctl('routes', '--openapi', @all);
is($rc, 0, 'routes: exit 0') or diag $err;
my @lines = split /\n/, $out;
like($lines[0], qr/^Method\s+Template\s+Scope\s+Source$/, 'a header line');
is(scalar @lines, 1 + 102, 'one line per operation');
like($out, qr{^GET\s+/contacts/\{contactId\}/tasks\s+contacts\.readonly\s+\Q$data\E/contacts\.json \$\.paths\["/contacts/\{contactId\}/tasks"\]\.get$}m,
     'method, template, scope, source');
like($out, qr{^POST\s+/contacts/\{contactId\}/tasks\s+contacts\.write\s}m,
     'POST on it: contacts.write');
like($out, qr{^POST\s+/contacts/bulk/business\s+-\s}m,
     'no security: "-"');
my @tmpls = map { (split /\s+/)[1] } @lines[1 .. $#lines];
is_deeply(\@tmpls, [sort @tmpls], 'sorted by template');

($rc, $out, $err) = pitctl('--json', 'routes', '--openapi', @all);
is($rc, 0, 'routes --json: exit 0');
my $j = JSON::PP->new->decode($out);
is(scalar @$j, 102, '102 routes');
my ($tr) = grep { $_->{template} eq '/conversations/locations/{locationId}/'
                  . 'messages/{messageId}/transcription' } @$j;
is_deeply($tr, { method => 'GET',
                 template => '/conversations/locations/{locationId}/messages/'
                             . '{messageId}/transcription',
                 scope => 'conversations/message.readonly',
                 source => "$data/conversations.json \$.paths[\"/"
                           . 'conversations/locations/{locationId}/messages/'
                           . '{messageId}/transcription"].get' },
          'two schemes naming one scope: that scope');

# --openapi may be repeated; --match shows the route a request gets
($rc, $out) = pitctl('routes', '--openapi', $all[0], '--openapi', $all[1],
                     '--match', 'GET', '/contacts/search');
is($rc, 0, '--match: exit 0');
like($out, qr{^GET\s+/contacts/\{contactId\}\s+contacts\.readonly\s}m,
     'GET /contacts/search: the parameter route (the literal has no GET)');
($rc, $out) = pitctl('--json', 'routes', '--openapi', @all, '--match',
                     'HEAD', '/calendars/');
is(JSON::PP->new->decode($out)->[0]{scope}, 'calendars.readonly',
   'HEAD uses GET');
($rc, $out, $err) = pitctl('routes', '--openapi', @all, '--match', 'PATCH',
                           '/contacts/c1');
is($rc, 2, '--match without a route: exit 2');
like($err, qr{pitctl: no route for PATCH /contacts/c1}, '... says so');

# refusals, as nginx -t
my $dir = tempdir(CLEANUP => 1);
open my $fh, '>', "$dir/dup.json" or die;
print $fh '{"openapi":"3.0.0","paths":{"/contacts/{id}/tasks":'
          . '{"get":{"security":[{"bearer":["x.readonly"]}]}}}}';
close $fh;
($rc, $out, $err) = pitctl('routes', '--openapi', $all[0], "$dir/dup.json");
is($rc, 1, 'conflict: exit 1');
like($err, qr{conflicting routes: GET /contacts/\{contactId\}/tasks \(.*contacts\.json .*\) and GET /contacts/\{id\}/tasks \(\Q$dir\E/dup\.json \$\.paths\["/contacts/\{id\}/tasks"\]\.get\)},
     '... naming both sources');

open $fh, '>', "$dir/bad.json" or die;
print $fh '{"openapi":"3.0.0","paths":{"/x":{"get":{"security":'
          . '[{"bearer":["ok.readonly","Not Valid"]}]}}}}';
close $fh;
($rc, $out, $err) = pitctl('routes', '--openapi', "$dir/bad.json");
is($rc, 1, 'invalid scope: exit 1');
is($err, "pitctl: $dir/bad.json: \$.paths[\"/x\"].get.security[0]"
         . "[\"bearer\"][1]: invalid scope name \"Not Valid\"\n",
   '... with file and JSON path');

($rc, $out, $err) = pitctl('routes', '--openapi', "$dir/none.json");
is($rc, 1, 'missing file: exit 1');
like($err, qr{\Q$dir\E/none\.json: No such file}, '... names it');

($rc, $out, $err) = pitctl('routes');
is($rc, 1, 'no file: exit 1');
like($err, qr/no --openapi FILE given/, '... says so');
($rc, $out, $err) = pitctl('routes', $all[0]);
is($rc, 1, 'a file without --openapi: exit 1');

done_testing();
