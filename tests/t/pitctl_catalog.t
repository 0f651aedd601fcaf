#!/usr/bin/perl
# pitctl scopes: the catalogue as data (<prefix>scopes), HighLevel's the
# default; import (catalogue files, OpenAPI specs), add, remove (refused
# while in use), export, reset; create/edit check the active catalogue.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;
use PitTest;

plan skip_all => 'build/pitctl not built (make build/pitctl)'
    unless -x PitTest::Pitctl::bin();

my $r = PitTest::Redis->new;
my $dir = tempdir(CLEANUP => 1);
sub pc { PitTest::Pitctl::run($r, @_) }
sub pj { PitTest::Pitctl::json($r, @_) }
sub write_file { open my $f, '>', $_[0] or die; print $f $_[1]; close $f; $_[0] }

# the default: HighLevel's, none stored
my ($rc, $out, $err) = pc('scopes');
is $rc, 0, 'scopes: exit 0';
like $out, qr/^Catalogue: built-in \(HighLevel's\), 91 scopes; none stored in pit:scopes/,
    'scopes says the built-in one is active';
my ($s) = (pj('scopes'))[1];
is scalar(@$s), 91, 'json: 91 scopes';
is $s->[0]{catalogue}, 'built-in', 'json: catalogue built-in';
($rc, $out) = PitTest::Pitctl::run(undef, '--redis', 'redis://127.0.0.1:1',
                                   'scopes', '--builtin');
is $rc, 0, 'scopes --builtin needs no Redis';

my ($id) = PitTest::Pitctl::create($r, name => 'uses-contacts',
                                   scopes => ['contacts.readonly']);

# add
($rc, $out, $err) = pc('scopes', 'add', 'orders.read', '--label', 'View Orders');
is $rc, 0, 'scopes add: exit 0' or diag $err;
my %h = $r->raw_list('HGETALL', 'pit:scopes');
is $h{'orders.read'}, 'View Orders', 'pit:scopes holds name -> label';
is scalar(keys %h), 92, 'the first change stores a copy of the default';
($rc, $out) = pc('scopes');
like $out, qr/^Catalogue: stored in pit:scopes, 92 scopes/, 'stored now';
($rc, undef, $err) = pc('scopes', 'add', 'orders.read');
is $rc, 3, 'adding a scope twice: conflict';
($rc, undef, $err) = pc('scopes', 'add', 'Orders');
is $rc, 1, 'an invalid name: exit 1';

($rc, undef, $err) = pc('create', '--name', 'o1', '--account', 'acct1',
                        '--scope', 'orders.read');
is $rc, 0, 'create with a stored scope' or diag $err;
($rc, undef, $err) = pc('create', '--name', 'o2', '--account', 'acct1',
                        '--scope', 'orders.raed');
is $rc, 1, 'create with an unknown scope: exit 1';
like $err, qr/unknown scope "orders\.raed" \(did you mean orders\.read\?\)/,
    '... with a suggestion';
($rc) = pc('create', '--name', 'o3', '--account', 'acct1', '--scope',
           'orders.raed', '--allow-unknown-scope');
is $rc, 0, '--allow-unknown-scope still works';
($rc, undef, $err) = pc('edit', $id, '--scope', 'nope.nope');
is $rc, 1, 'edit checks the active catalogue';

# remove: refused while used
($rc, undef, $err) = pc('scopes', 'remove', 'contacts.readonly');
is $rc, 3, 'remove of a scope in use: exit 3';
like $err, qr/used by integration \Q$id\E/, '... names the integration';
($rc) = pc('scopes', 'remove', 'contacts.readonly', '--force');
is $rc, 0, 'remove --force';
ok !exists { $r->raw_list('HGETALL', 'pit:scopes') }->{'contacts.readonly'},
    'gone from pit:scopes';
($rc) = pc('scopes', 'remove', 'contacts.readonly');
is $rc, 2, 'remove of an absent scope: exit 2';

# import: the three formats
my $json = write_file("$dir/cat.json", encode_json([
    { name => 'orders.read', label => 'View Orders' },
    { name => 'orders.write', label => 'Edit Orders' },
    { name => 'contacts.readonly' }, { name => 'locations.readonly' }]));
($rc, $out, $err) = pc('scopes', 'import', $json);
is $rc, 0, 'scopes import JSON list' or diag $err;
($rc, $s) = pj('scopes', 'export');
is_deeply $s, [ { name => 'contacts.readonly', label => '' },
                { name => 'locations.readonly', label => '' },
                { name => 'orders.read', label => 'View Orders' },
                { name => 'orders.write', label => 'Edit Orders' } ],
    'export prints the import format, sorted';
($rc, $out) = pc('scopes', 'export');
my $exp = write_file("$dir/export.json", $out);
($rc) = pc('scopes', 'import', $exp);
is $rc, 0, 'export output imports';
($rc, undef, $err) = pc('create', '--name', 'o4', '--account', 'acct1',
                        '--scope', 'calendars.readonly');
is $rc, 1, 'a HighLevel scope is unknown once my catalogue is stored';

my $obj = write_file("$dir/cat.obj", encode_json({ 'a.read' => 'A',
    'contacts.readonly' => 'C', 'orders.read' => 'O', 'locations.readonly' => 'L' }));
($rc, undef, $err) = pc("scopes", "import", $obj);
is $rc, 0, 'scopes import JSON object' or diag $err;
is $r->raw('HGET', 'pit:scopes', 'a.read'), 'A', 'object form stored';

my $txt = write_file("$dir/cat.txt", "# mine\norders.read\tView Orders\n"
    . "contacts.readonly   View Contacts\nlocations.readonly\n");
($rc, undef, $err) = pc('scopes', 'import', $txt);
is $rc, 0, 'scopes import text' or diag $err;
is $r->raw('HGET', 'pit:scopes', 'contacts.readonly'), 'View Contacts',
    'text form: label after blanks';

my $bad = write_file("$dir/bad.txt", "ok.read\nBad.Name x\n");
($rc, undef, $err) = pc('scopes', 'import', $bad);
is $rc, 1, 'a bad catalogue file: exit 1';
like $err, qr/bad\.txt:2: invalid scope name "Bad\.Name"/, '... says where';

# import --openapi: the scopes the specs require, labels from the flows
my $spec = write_file("$dir/api.json", encode_json({
    openapi => '3.0.0', info => { title => 't', version => '1' },
    components => { securitySchemes => { oauth => { type => 'oauth2',
        flows => { clientCredentials => { tokenUrl => 'https://x/t',
            scopes => { 'stock.read' => "Read stock\nmore text",
                        'stock.write' => 'Change stock' } } } } } },
    paths => {
        '/stock' => { get => { security => [{ oauth => ['stock.read'] }],
                               responses => { 200 => { description => 'ok' } } },
                      post => { security => [{ oauth => ['stock.write', 'orders.read'] }],
                                responses => { 200 => { description => 'ok' } } } } } }));
($rc, undef, $err) = pc('scopes', 'import', '--openapi', $spec, '--force');
is $rc, 0, 'scopes import --openapi' or diag $err;
my %o = $r->raw_list('HGETALL', 'pit:scopes');
is_deeply [ sort keys %o ], [ qw(orders.read stock.read stock.write) ],
    'every scope the security requirements name';
is $o{'stock.read'}, 'Read stock', 'label from flows.*.scopes (first line)';
is $o{'orders.read'}, '', 'no label where the spec has none';
($rc) = pc('scopes', 'import', '--openapi',
           "$FindBin::Bin/../data/highlevel/contacts.json", '--merge');
is $rc, 0, 'import --openapi --merge of HighLevel\'s contacts spec';
ok exists { $r->raw_list('HGETALL', 'pit:scopes') }->{'contacts.readonly'},
    '... adds contacts.readonly';

# reset, audit
($rc, undef, $err) = pc('scopes', 'reset', '--force');
is $rc, 0, 'scopes reset' or diag $err;
is $r->raw('EXISTS', 'pit:scopes'), '0', 'pit:scopes removed';
($rc, $out) = pc('scopes');
like $out, qr/^Catalogue: built-in/, 'built-in again';
my ($au) = (pj('audit', '--limit', '20'))[1];
my @acts = map { $_->{action} } @$au;
for my $a (qw(scopes-add scopes-remove scopes-import scopes-reset)) {
    ok((grep { $_ eq $a } @acts), "audit: $a");
}
my ($rm) = grep { $_->{action} eq 'scopes-remove' } @$au;
like $rm->{detail} // '', qr/contacts\.readonly \(forced\)/, 'audit detail';

done_testing;
