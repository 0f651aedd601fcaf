#!/usr/bin/perl
# pitctl through Redis Sentinel: a redis-sentinel:// URL finds the primary
# (the next sentinel when one is down, exit 4 at once when all are), and
# after the primary is SIGKILLed every change either succeeds exactly once
# on the new primary or exits 4 saying whether it may have been applied.
# A primary, one replica and three sentinels, all on loopback.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use PitTest;

# --- sentinels: redis-server --sentinel, each with its own config file --

package Sentinel {
    sub new {
        my ($class, $master_port) = @_;
        my $self = bless { dir => PitTest::server_dir(), owner => $$,
                           port => PitTest::free_port() }, $class;
        # Sentinels rewrite their config file: one file (and dir) each.
        open my $fh, '>', "$self->{dir}/sentinel.conf" or die;
        print $fh <<"END";
port $self->{port}
bind 127.0.0.1
daemonize no
dir $self->{dir}
logfile ""
sentinel monitor m 127.0.0.1 $master_port 2
sentinel down-after-milliseconds m 1000
sentinel failover-timeout m 5000
END
        close $fh;
        $self->start;
        return $self;
    }

    sub port { $_[0]{port} }

    sub start {
        my ($self) = @_;
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            open STDOUT, '>', "$self->{dir}/sentinel.out";
            open STDERR, '>&', \*STDOUT;
            { exec 'redis-server', "$self->{dir}/sentinel.conf",
                '--sentinel'; }
            POSIX::_exit(127);
        }
        $self->{pid} = $pid;
        PitTest::wait_port($self->{port}, 10)
            or die "sentinel did not start: "
                   . PitTest::slurp("$self->{dir}/sentinel.out");
    }

    sub cmd {
        my ($self, @args) = @_;
        my (undef, $out) = PitTest::run_cmd(['redis-cli', '-p',
                                             $self->{port}, '--raw', @args]);
        chomp $out;
        return $out;
    }

    sub stop {
        my ($self) = @_;
        return unless $self->{pid};
        kill 'TERM', $self->{pid};
        waitpid $self->{pid}, 0;
        delete $self->{pid};
    }

    sub DESTROY { local $?; $_[0]->stop if $_[0]{pid} && $$ == $_[0]{owner} }
}

sub wait_until {
    my ($secs, $cond) = @_;
    my $end = time + $secs;
    until ($cond->()) {
        return 0 if time > $end;
        sleep 0.1;
    }
    return 1;
}

sub pitctl { PitTest::Pitctl::run(@_) }

# --- the fleet ------------------------------------------------------------

my $primary = PitTest::Redis->new;
my $replica = PitTest::Redis->new(extra => ['--replicaof', '127.0.0.1',
                                            $primary->port]);
ok wait_until(10, sub { $replica->raw('INFO', 'replication')
                        =~ /master_link_status:up/ }), 'replica in sync';

my @s = map { Sentinel->new($primary->port) } 1 .. 3;
ok wait_until(20, sub { $s[0]->cmd('SENTINEL', 'ckquorum', 'm') =~ /^OK/
                        && $s[0]->cmd('SENTINEL', 'replicas', 'm')
                           =~ /\Q${\$replica->port}\E/ }),
    'sentinels agree on the master and know the replica'
    or diag $s[0]->cmd('SENTINEL', 'ckquorum', 'm');

my $url = 'redis-sentinel://' . join(',', map { '127.0.0.1:' . $_->port } @s)
          . '/m';

# --- create, list, rotate through the sentinels --------------------------

my ($rc, $out, $err) = pitctl($url, '--json', 'create', '--name', 'Via',
    '--account', 'acct1', '--scope', 'contacts.readonly');
is $rc, 0, 'create through the sentinels' or diag $err;
my ($id) = $out =~ /"id"\s*:\s*"([A-Za-z0-9]{20})"/;
ok $id && length $primary->raw('GET', "pit:int:$id"),
    'the integration is on the primary';

($rc, $out, $err) = pitctl($url, 'list');
is $rc, 0, 'list through the sentinels' or diag $err;
like $out, qr/Via/, 'list shows it';

($rc, $out, $err) = pitctl($url, 'rotate', $id, '--later');
is $rc, 0, 'rotate --later through the sentinels' or diag $err;
is((pitctl($url, 'cancel-rotation', $id))[0], 0, 'cancel-rotation');
for my $cmd (['show', $id], ['audit', $id], ['scopes']) {
    is((pitctl($url, @$cmd))[0], 0, "$cmd->[0] through the sentinels");
}

# the same URL in PIT_REDIS_URL, and sentinel credentials when none are set
($rc, $out, $err) = PitTest::run_cmd([PitTest::Pitctl::bin(), 'list'],
                                     env => { PIT_REDIS_URL => $url });
is $rc, 0, 'PIT_REDIS_URL=redis-sentinel://...' or diag $err;

# --- --wait 1 with the replica -------------------------------------------

($rc, $out, $err) = pitctl($url, '--wait', '1', '--json', 'create',
    '--name', 'Waited', '--account', 'acct1', '--scope', 'contacts.readonly');
is $rc, 0, 'create --wait 1 with the replica' or diag $err;
my ($wid) = $out =~ /"id"\s*:\s*"([A-Za-z0-9]{20})"/;
ok $wid && length $replica->raw('GET', "pit:int:$wid"),
    'the replica holds it when pitctl returns';

# --- sentinels down --------------------------------------------------------

my @dead = map { PitTest::free_port() } 1 .. 3;
my $t0 = time;
($rc, $out, $err) = pitctl("redis-sentinel://127.0.0.1:$dead[0],"
                           . '127.0.0.1:' . $s[1]->port . '/m', 'list');
is $rc, 0, 'first sentinel down: the next one is asked' or diag $err;

$t0 = time;
($rc, $out, $err) = pitctl('redis-sentinel://'
    . join(',', map { "127.0.0.1:$_" } @dead) . '/m', 'create', '--name', 'X',
    '--account', 'acct1', '--scope', 'contacts.readonly');
my $took = time - $t0;
is $rc, 4, 'all sentinels down: exit 4';
like $err, qr/create: no sentinel answered: the change was not applied/,
    'all sentinels down: says so, and that nothing was applied';
cmp_ok $took, '<', 3, sprintf('all sentinels down: quickly (%.2f s)', $took);

($rc, undef, $err) = pitctl($url =~ s{/m$}{/nosuch}r, 'list');
is $rc, 4, 'unknown master name: exit 4';
like $err, qr/unknown master name|no primary answered/,
    'unknown master name: says so';

# --- failover: SIGKILL the primary, then change at once --------------------

my $killed = time;
$primary->stop('KILL');

# Too short a failover timeout: nothing is applied, and pitctl says so.
($rc, $out, $err) = pitctl($url, '--failover-timeout', '500ms', 'create',
    '--name', 'Early', '--account', 'acct1', '--scope', 'contacts.readonly');
is $rc, 4, 'right after the kill, --failover-timeout 500ms: exit 4';
like $err, qr/no primary answered within 500 ms: the change was not applied/,
    'says no primary answered and the change was not applied';

# Changes in a loop: creates of new names and rotate --now of one
# integration; each succeeds once or exits 4 with the message.
my (%created, @rotations, $first_ok, %maybe);
for my $i (1 .. 8) {
    my @args = $i % 2 ? ('--json', 'create', '--name', "Fo$i",
                         '--account', 'acct2', '--scope', 'contacts.readonly')
                      : ('--json', 'rotate', $id, '--now');
    ($rc, $out, $err) = pitctl($url, @args);
    if ($rc == 0) {
        $first_ok //= time;
        my ($tok) = $out =~ /"token"\s*:\s*"(pit-[0-9a-f-]{36})"/;
        if ($i % 2) {
            my ($cid) = $out =~ /"id"\s*:\s*"([A-Za-z0-9]{20})"/;
            $created{"Fo$i"} = [$cid, $tok];
        } else {
            push @rotations, $tok;
        }
        next;
    }
    is $rc, 4, "change $i after the kill: exit 0 or 4" or diag $err;
    like $err, qr/no (primary|sentinel) answered.*: the change (was not applied|may have been applied: check with pitctl)/,
        "change $i: exit 4 says whether it was applied";
    $maybe{$i} = 1 if $err =~ /may have been applied/;
}
ok $first_ok, 'a change succeeded after the failover';
diag sprintf('pitctl succeeded %.2f s after SIGKILL of the primary',
             ($first_ok // time) - $killed);

# (the sentinels that did not lead the failover learn of it a bit later)
ok wait_until(10, sub { $s[1]->cmd('SENTINEL', 'get-master-addr-by-name',
                                   'm') =~ /\Q${\$replica->port}\E/ }),
    'the replica is the new primary';
my $new = $replica;

# Exactly once: one integration per successful create, one audit entry
# per change, exactly the expected token keys.
my @audit = $new->raw_list('XRANGE', 'pit:audit', '-', '+');
for my $name (sort keys %created) {
    my ($cid, $tok) = @{ $created{$name} };
    my ($n) = scalar grep { /^$name$/ } map { $_->{name} }
        map { $new->get_json($_) } $new->keys_matching('pit:int:*');
    is $n, 1, "$name: exactly one integration";
    my @keys = grep { ($new->get_json($_)->{iid} // '') eq $cid }
               $new->keys_matching('pit:tok:*');
    is_deeply \@keys, [PitTest::Pitctl::token_key($tok)],
        "$name: exactly its token key";
    is scalar(grep { $_ eq $cid } @audit), 1, "$name: one audit entry";
}
if (@rotations) {
    my @keys = sort grep { ($new->get_json($_)->{iid} // '') eq $id }
               $new->keys_matching('pit:tok:*');
    is_deeply \@keys, [PitTest::Pitctl::token_key($rotations[-1])],
        'rotated integration: only the last token shown has a key'
        unless grep { $_ % 2 == 0 } keys %maybe;
    my ($rc2, $out2) = pitctl($url, 'audit', $id, '--json');
    my $n = () = $out2 =~ /rotate-now/g;
    my $maybe_rot = grep { $_ % 2 == 0 } keys %maybe;
    ok $n >= @rotations && $n <= @rotations + $maybe_rot,
        "one rotate-now audit entry per rotation ($n for "
        . scalar(@rotations) . ')';
    is((pitctl($url, 'check', $rotations[-1]))[0], 0,
       'the last token shown works');
}
is_deeply [PitTest::Pitctl::integrity($new)], [], 'new primary consistent';

# --- the old primary comes back as a replica: --wait 1 on the new one ----

$primary->start;
ok wait_until(30, sub { $primary->raw('INFO', 'replication')
                        =~ /role:slave.*master_link_status:up/s }),
    'the old primary rejoins as a replica';
($rc, $out, $err) = pitctl($url, '--wait', '1', '--json', 'create',
    '--name', 'After', '--account', 'acct1', '--scope', 'contacts.readonly');
is $rc, 0, 'create --wait 1 on the new primary' or diag $err;
my ($aid) = $out =~ /"id"\s*:\s*"([A-Za-z0-9]{20})"/;
ok $aid && length $primary->raw('GET', "pit:int:$aid"),
    'its replica (the old primary) holds it when pitctl returns';

# --- EXEC applied, its outcome lost: found, not applied twice -------------
# pitctl creates with --wait 1 while the replica is stopped (SIGSTOP), so
# it sits in WAIT after a successful EXEC; the primary is SIGKILLed there.
# The replica, resumed, holds the change and is promoted: pitctl must find
# its audit entry there and not create the integration again.

my ($cur, $next) = ($replica, $primary);      # primary now, its replica
kill 'STOP', $next->pid;
my $res = File::Temp->new;
my $kid = fork // die;
if ($kid == 0) {
    my @r = pitctl($url, '--wait', '1', '--wait-timeout', '3s', '--json',
                   'create', '--name', 'Lost', '--account', 'acct3',
                   '--scope', 'contacts.readonly');
    open my $fh, '>', $res->filename or die;
    print $fh join("\0", @r);
    close $fh;
    POSIX::_exit(0);
}
ok wait_until(5, sub { length $cur->raw('GET', 'pit:name:acct3:lost') }),
    'the create is applied on the primary';
$cur->stop('KILL');
kill 'CONT', $next->pid;
waitpid $kid, 0;
($rc, $out, $err) = split /\0/, PitTest::slurp($res->filename), 3;
is $rc, 4, 'create whose WAIT was cut: exit 4 (no replica left to ack)';
like $err, qr/applied on the primary, but 0 of 1 replicas/,
    'it was found applied on the new primary' or diag $err;
my ($lid) = $out =~ /"id"\s*:\s*"([A-Za-z0-9]{20})"/;
my ($ltok) = $out =~ /"token"\s*:\s*"(pit-[0-9a-f-]{36})"/;
ok $lid && $ltok, 'its id and token are shown';
@audit = grep { $_ eq ($lid // '') }
         $next->raw_list('XRANGE', 'pit:audit', '-', '+');
is scalar @audit, 1, 'one create audit entry on the new primary';
is scalar(grep { ($next->get_json($_)->{iid} // '') eq ($lid // '') }
          $next->keys_matching('pit:tok:*')), 1, 'one token key';
is((pitctl($url, 'check', $ltok // 'x'))[0], 0, 'the token shown works');
is_deeply [PitTest::Pitctl::integrity($next)], [], 'consistent';

# --- a sentinel really down: the next one answers --------------------------

$s[0]->stop;
is((pitctl($url, 'list'))[0], 0, 'first sentinel stopped: list works');

$_->stop for @s;
$_->stop for $primary, $replica;
done_testing;
