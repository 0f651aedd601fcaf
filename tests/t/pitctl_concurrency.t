#!/usr/bin/perl
# pitctl under concurrency: 20 processes released at once on one
# integration or one name; then a storm of mixed operations, after which
# every cross-reference of the schema must still hold.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use POSIX ();
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use PitTest qw(slurp);

plan skip_all => 'build/pitctl not built (make build/pitctl)'
    unless -x PitTest::Pitctl::bin();

my $r = PitTest::Redis->new;
my $TOKEN_RE = qr/pit-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

# Starts one pitctl per argument list, all blocked on a pipe, releases them
# together and returns [{rc, sig, out, err}] in the same order.
sub together {
    my (@cmds) = @_;
    my $dir = tempdir(CLEANUP => 1);
    pipe(my $rd, my $wr) or die "pipe: $!";
    my @pids;
    for my $i (0 .. $#cmds) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            close $wr;
            sysread $rd, my $buf, 1;          # EOF when the parent closes
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', "$dir/$i.out";
            open STDERR, '>', "$dir/$i.err";
            { exec PitTest::Pitctl::bin(), '--redis', $r->url, @{ $cmds[$i] }; }
            POSIX::_exit(127);
        }
        push @pids, $pid;
    }
    close $rd;
    sleep 0.2;                               # let every child reach read
    close $wr;
    my @res;
    for my $i (0 .. $#pids) {
        waitpid $pids[$i], 0;
        push @res, { rc => $? >> 8, sig => $? & 127,
                     out => slurp("$dir/$i.out"), err => slurp("$dir/$i.err") };
    }
    return @res;
}

sub codes {
    my %n;
    $n{ $_->{sig} ? "signal $_->{sig}" : $_->{rc} }++ for @_;
    return join ', ', map { "$_ x$n{$_}" } sort keys %n;
}

sub tok_keys_of {
    my ($iid) = @_;
    return grep { (($r->get_json($_) || {})->{iid} // '') eq $iid }
           $r->keys_matching('pit:tok:*');
}

sub audit_count {
    my ($iid, $action) = @_;
    my ($rc, $a) = PitTest::Pitctl::json($r, 'audit', $iid);
    return scalar grep { ($_->{action} // '') eq $action } @{ $a || [] };
}

###########################################################################
# 20 x rotate --later: one wins, 19 see a rotation in progress

my ($id, $t1) = PitTest::Pitctl::create($r, name => 'contended');
my @res = together(map { ['rotate', $id, '--later'] } 1 .. 20);
my @won = grep { $_->{rc} == 0 && !$_->{sig} } @res;
is scalar(@won), 1, 'rotate --later x20: exactly one exits 0'
    or diag codes(@res);
is scalar(grep { $_->{rc} == 3 && !$_->{sig} } @res), 19,
    'rotate --later x20: the others exit 3' or diag codes(@res);
my @keys = tok_keys_of($id);
is scalar(@keys), 2, 'exactly two token keys for the integration';
my ($t2) = @won ? $won[0]{out} =~ /($TOKEN_RE)\s*\z/ : ();
ok $t2 && grep({ $_ eq PitTest::Pitctl::token_key($t2) } @keys),
    'the winner\'s token is the one stored';
is +($r->get_json(PitTest::Pitctl::token_key($t1)) || {})->{role},
    'previous', 'the old token is previous';
is audit_count($id, 'rotate-later'), 1, 'one rotate-later in the audit';
my @loser_out = grep { $_->{rc} != 0 && $_->{out} =~ $TOKEN_RE } @res;
is scalar(@loser_out), 0, 'no loser printed a token';

###########################################################################
# 20 x rotate --now: all may win, one token survives

@res = together(map { ['rotate', $id, '--now'] } 1 .. 20);
is scalar(grep { $_->{rc} == 0 && !$_->{sig} } @res), 20,
    'rotate --now x20: every one succeeds' or diag codes(@res);
@keys = tok_keys_of($id);
is scalar(@keys), 1, 'rotate --now x20: one token key left';
my %printed = map { PitTest::Pitctl::token_key($_) => 1 }
              map { $_->{out} =~ /($TOKEN_RE)/g } @res;
ok @keys && $printed{ $keys[0] }, '... and it is one that was printed';
my ($rc, $sh) = PitTest::Pitctl::json($r, 'show', $id);
is_deeply [ map { $_->{role} } @{ ($sh && $sh->{tokens}) || [] } ],
    ['primary'], '... the only token of the integration';

###########################################################################
# 20 x create with one name in one account: one wins

my @case = ('Shared Name', 'shared name', 'SHARED NAME', 'Shared name');
@res = together(map { ['create', '--name', $case[$_ % 4], '--scope',
                       'contacts.readonly', '--account', 'race'] } 1 .. 20);
is scalar(grep { $_->{rc} == 0 && !$_->{sig} } @res), 1,
    'create x20: exactly one exits 0' or diag codes(@res);
is scalar(grep { $_->{rc} == 3 && !$_->{sig} } @res), 19,
    'create x20: the others exit 3' or diag codes(@res);
is $r->raw('ZCARD', 'pit:ints:race'), 1, 'one integration in the account';
my @ints = grep { (($r->get_json($_) || {})->{account} // '') eq 'race' }
           $r->keys_matching('pit:int:*');
is scalar(@ints), 1, 'one integration key';
my ($rid) = map { /int:(.*)/ } @ints;
is scalar(tok_keys_of($rid // '')), 1, 'one token key (no orphan)';
my $orphans = grep { (($r->get_json($_) || {})->{acct} // '') eq 'race' }
              $r->keys_matching('pit:tok:*');
is $orphans, 1, 'no token key from a losing create';
is $r->raw('GET', 'pit:name:race:shared name'), $rid // '', 'name key';

is_deeply [ PitTest::Pitctl::integrity($r) ], [], 'integrity after races';

###########################################################################
# a storm of mixed operations

my @names = map { "storm-$_" } 1 .. 6;
for my $n (@names) { PitTest::Pitctl::create($r, name => $n, account => 'st') }

my $dir = tempdir(CLEANUP => 1);
my $procs = 12;
my $until = time + 2.5;
my @pids;
for my $p (1 .. $procs) {
    my $pid = fork // die;
    if ($pid == 0) {
        srand($$ ^ int(time * 1000));
        my @log;
        while (time < $until) {
            my (undef, $list) = PitTest::Pitctl::json($r, 'list', '--account',
                                                      'st');
            my @ids = map { $_->{id} } @{ ref $list eq 'ARRAY' ? $list : [] };
            my $id = @ids ? $ids[rand @ids] : 'AAAAAAAAAAAAAAAAAAAA';
            my $n = $names[rand @names];
            my @ops = (
                ['rotate', $id, '--later'],
                ['rotate', $id, '--later', '--overlap', '36h'],
                ['rotate', $id, '--now'],
                ['cancel-rotation', $id],
                ['expire-now', $id],
                ['edit', $id, '--scope', 'contacts.write', '--scope',
                 'contacts.readonly'],
                ['edit', $id, '--name', $n],
                ['delete', $id],
                ['create', '--name', $n, '--scope', 'contacts.readonly',
                 '--account', 'st'],
            );
            my $op = $ops[rand @ops];
            my ($rc, $out, $err) = PitTest::Pitctl::run($r, @$op);
            push @log, "$rc\t$op->[0]\t" . ($err =~ s/\s+/ /gr);
        }
        open my $fh, '>', "$dir/$p" or POSIX::_exit(1);
        print $fh map { "$_\n" } @log;
        close $fh;
        POSIX::_exit(0);
    }
    push @pids, $pid;
}
waitpid $_, 0 for @pids;
my @log = map { split /\n/, slurp("$dir/$_") } 1 .. $procs;
my @bad = grep { !/^[023]\t/ } @log;
ok @log > 50, 'storm: ' . scalar(@log) . ' operations ran';
is scalar(@bad), 0, 'storm: every exit code is 0, 2 or 3'
    or diag join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)];
ok scalar(grep { /^0\t/ } @log) > 10, 'storm: operations succeeded';

my @problems = PitTest::Pitctl::integrity($r);
is_deeply \@problems, [], 'storm: every token key belongs to an integration '
    . 'listing its hash, every listed token has its key';
my $states_ok = 1;
for my $k ($r->keys_matching('pit:int:*')) {
    my $in = $r->get_json($k) || {};
    my $roles = join ',', sort map { $_->{role} } @{ $in->{tokens} || [] };
    next if $roles eq 'primary' || $roles eq 'next,previous';
    $states_ok = 0;
    diag "$k: tokens $roles";
}
ok $states_ok, 'storm: each integration has a primary, or previous + next';
my %seen;
for my $k ($r->keys_matching('pit:name:st:*')) { $seen{ $r->raw('GET', $k) }++ }
is scalar(grep { $_ > 1 } values %seen), 0, 'storm: one name per integration';
is $r->raw('ZCARD', 'pit:ints:st'), scalar($r->keys_matching('pit:name:st:*')),
    'storm: index and name keys agree';

done_testing;
