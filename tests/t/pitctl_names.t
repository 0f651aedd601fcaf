#!/usr/bin/perl
# pitctl create and edit refuse names and descriptions that display
# misleadingly (security review finding 8, the class of CVE-2021-42574):
# bidirectional controls and invisible characters anywhere, and names with
# nothing visible in them.  The rule is the core's; refused input writes
# nothing, and records stored before the rule still read, rotate and edit.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Encode qw(encode_utf8);
use PitTest;

plan skip_all => 'build/pitctl not built (make build/pitctl)'
    unless -x PitTest::Pitctl::bin();

my $r = PitTest::Redis->new;

sub pc { PitTest::Pitctl::run($r, @_) }
sub pj { PitTest::Pitctl::json($r, @_) }
sub nkeys { scalar $r->keys_matching('*') }

# One assertion: exit 1, the message on stderr matches $re, no stdout.
sub refused {
    my ($what, $re, @args) = @_;
    my ($rc, $out, $err) = pc(@args);
    ok($rc == 1 && $err =~ $re && $out eq '', "$what: exit 1, $re")
        or diag "rc=$rc\nstdout=$out\nstderr=$err";
}

# Names of every integration of acct1, as pitctl list --json shows them.
sub listed {
    my ($rc, $data, $out, $err) = pj('list', '--account', 'acct1');
    return () if $rc != 0 || ref $data ne 'ARRAY';
    return sort map { $_->{name} } @$data;
}

my @ok = ('--scope', 'contacts.readonly', '--account', 'acct1');
my $INVIS = qr/invisible or bidirectional control character/;

###########################################################################
# create: a refused code point in the name, each range at both ends

my @refused = (
    [0x00ad, 'soft hyphen'],
    [0x061c, 'Arabic letter mark'],
    [0x180e, 'Mongolian vowel separator'],
    [0x200b, 'zero width space'],
    [0x200c, 'zero width non-joiner'],
    [0x200d, 'zero width joiner'],
    [0x200e, 'left-to-right mark'],
    [0x200f, 'right-to-left mark'],
    [0x2028, 'line separator'],
    [0x2029, 'paragraph separator'],
    [0x202a, 'left-to-right embedding'],
    [0x202d, 'left-to-right override'],
    [0x202e, 'right-to-left override'],
    [0x2060, 'word joiner'],
    [0x2064, 'invisible plus'],
    [0x2066, 'left-to-right isolate'],
    [0x2069, 'pop directional isolate'],
    [0xfeff, 'zero width no-break space (BOM)'],
);

my $before = nkeys();
for my $c (@refused) {
    my ($cp, $label) = @$c;
    my $hex = sprintf 'U+%04X', $cp;
    refused "create, name with $hex $label",
        qr/^pitctl: create: name: .*$INVIS \(\Q$hex\E\b/,
        'create', '--name', encode_utf8("invoice" . chr($cp) . "fdp.exe"),
        @ok;
}
refused 'create, the Trojan Source name (RLO ... PDF)',
    qr/^pitctl: create: name: .*$INVIS \(U\+202E at character 8\)/,
    'create', '--name', encode_utf8("invoice\x{202e}exe.pdf\x{202c}"), @ok;
refused 'create, a name of one zero width space',
    qr/^pitctl: create: name: .*$INVIS \(U\+200B/,
    'create', '--name', encode_utf8("\x{200b}"), @ok;

###########################################################################
# create: names with nothing visible

for my $c (['   ', 'spaces'],
           ["\x{a0}\x{a0}", 'no-break spaces'],
           ["\x{3000}", 'ideographic space'],
           ["\x{200a}", 'hair space U+200A'],
           [" \x{2000}\x{2003}\x{202f}\x{205f} ", 'assorted Unicode spaces'],
           ["\x{3164}", 'Hangul filler U+3164'],
           ["\x{115f}\x{1160}", 'Hangul choseong/jungseong fillers'])
{
    my ($name, $label) = @$c;
    refused "create, a name of only $label",
        qr/^pitctl: create: name: must contain a visible character$/m,
        'create', '--name', encode_utf8($name), @ok;
}

###########################################################################
# create: descriptions

refused 'create, description with U+202E',
    qr/^pitctl: create: description: .*$INVIS \(U\+202E/,
    'create', '--name', 'desc-app', '--description',
    encode_utf8("looks \x{202e}fine"), @ok;
refused 'create, description with U+2066',
    qr/^pitctl: create: description: .*$INVIS \(U\+2066/,
    'create', '--name', 'desc-app', '--description',
    encode_utf8("\x{2066}x\x{2069}"), @ok;
refused 'create, description with U+200B',
    qr/^pitctl: create: description: .*$INVIS \(U\+200B/,
    'create', '--name', 'desc-app', '--description',
    encode_utf8("a\x{200b}b"), @ok;

is nkeys(), $before, 'no key written by any refused create';
is_deeply [ listed() ], [], 'pitctl list shows nothing';

###########################################################################
# create: what stays accepted

my @good = ("Caf\x{e9} \x{2615} \x{65e5}\x{672c}\x{8a9e} \x{1f600}",
            "a\x{200a}b", "a\x{a0}b", "a\x{202f}b", "\x{3000}x\x{3000}",
            "\x{2764}\x{fe0f}", "\x{062a}\x{0637}\x{0628}\x{064a}\x{0642}",
            "\x{2070}", "x\x{2027}\x{205f}\x{2030}",
            '  padded  ');
my %id;
for my $name (@good) {
    my ($rc, $data, $out, $err) = pj('create', '--name', encode_utf8($name),
        '--description', encode_utf8("  \x{a0} "), @ok);
    is $rc, 0, 'create accepts ' . encode_utf8($name) or diag $err;
    is $data && $data->{name}, $name, 'name kept as given';
    $id{$name} = $data && $data->{id};
}
is_deeply [ listed() ], [ sort @good ], 'pitctl list shows the accepted ones';
is_deeply [ PitTest::Pitctl::integrity($r) ], [], 'schema integrity';

###########################################################################
# edit: refused, the previous name and description intact

my $gid = $id{"a\x{200a}b"} // '';
my $keys = nkeys();
refused 'edit to a name with U+202E',
    qr/^pitctl: edit: name: .*$INVIS \(U\+202E/,
    'edit', $gid, '--name', encode_utf8("evil\x{202e}gpj.exe");
refused 'edit to a name of spaces',
    qr/^pitctl: edit: name: must contain a visible character$/m,
    'edit', $gid, '--name', '  ';
refused 'edit to a name of an ideographic space',
    qr/^pitctl: edit: name: must contain a visible character$/m,
    'edit', $gid, '--name', encode_utf8("\x{3000}");
refused 'edit to a description with U+FEFF',
    qr/^pitctl: edit: description: .*$INVIS \(U\+FEFF/,
    'edit', $gid, '--description', encode_utf8("\x{feff}bom");
refused 'edit name and description, the description bad',
    qr/^pitctl: edit: description: .*$INVIS \(U\+2028/,
    'edit', $gid, '--name', 'fine', '--description',
    encode_utf8("two\x{2028}lines");
is nkeys(), $keys, 'no key added by a refused edit';
my ($rc, $data, $out, $err) = pj('show', $gid);
is $rc, 0, 'show after refused edits' or diag $err;
is $data && $data->{name}, "a\x{200a}b", 'previous name intact';
is $data && $data->{description}, "  \x{a0} ", 'previous description intact';

($rc, $data, $out, $err) = pj('edit', $gid, '--name',
    encode_utf8("\x{00c9}t\x{00e9} \x{1f31e}"), '--description', '');
is $rc, 0, 'edit to a good Unicode name' or diag $err;
is $data && $data->{name}, "\x{00c9}t\x{00e9} \x{1f31e}", 'new name kept';
is_deeply [ PitTest::Pitctl::integrity($r) ], [], 'schema integrity';

###########################################################################
# records stored before the rule still read, rotate and edit

my ($old) = PitTest::Pitctl::create($r, name => 'old-app');
my $ikey = "pit:int:$old";
my $json = $r->raw('GET', $ikey);
$json =~ s/"name":"old-app"/"name":"old\\u202eppa"/ or BAIL_OUT('no name');
$json =~ s/"description":""/"description":"\\u200b"/ or BAIL_OUT('no desc');
$r->raw('SET', $ikey, $json);

($rc, $data, $out, $err) = pj('show', $old);
is $rc, 0, 'show: an old record with U+202E in its name still decodes'
    or diag $err;
is $data && $data->{name}, "old\x{202e}ppa", 'old name read as stored';
($rc, $out, $err) = pc('list', '--account', 'acct1');
is $rc, 0, 'list: still lists the account' or diag $err;
($rc, $out, $err) = pc('rotate', $old, '--later');
is $rc, 0, 'rotate: an old record can still be rotated' or diag $err;
($rc, $data, $out, $err) = pj('edit', $old, '--scope', 'contacts.write');
is $rc, 0, 'edit of another field keeps the old name' or diag $err;
is $data && $data->{name}, "old\x{202e}ppa", 'old name untouched';
($rc, $data, $out, $err) = pj('edit', $old, '--name', 'old-app-fixed',
    '--description', 'clean');
is $rc, 0, 'edit: the old name can be replaced by a clean one' or diag $err;
is $data && $data->{name}, 'old-app-fixed', 'clean name stored';

done_testing;
