# The Debian packages from `make deb`, installed for real with apt-get:
# libnginx-mod-http-pit-auth enables the module in /etc/nginx/modules-enabled
# (dh_nginx), the stock configuration still passes `nginx -t`, the shipped
# example configuration (as a conf.d snippet, pointed at a private Redis)
# passes too, a separate nginx loading the module the stock way answers 401
# without a token and 200 with one made by the packaged /usr/bin/pitctl,
# pitctl(1) is installed, and remove/purge take the module out again.
#
# Runs only as root (it changes the system: packages and /etc/nginx).
# /etc/nginx is saved with tar first and restored exactly at the end,
# however the test ends; packages that were installed before (same version)
# are put back, and the system nginx service is never started.

use strict;
use warnings;

use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use PitTest qw(top free_port run_cmd slurp);
use File::Temp qw(tempdir);
use File::Find ();
use Digest::SHA ();
use Time::HiRes ();

my $top = top();
my @PKGS = qw(libnginx-mod-http-pit-auth pit-auth-tools);
my $ENABLED = '/etc/nginx/modules-enabled/50-mod-http-pit-auth.conf';
my $AVAIL = '/usr/share/nginx/modules-available/mod-http-pit-auth.conf';
my $SO = '/usr/lib/nginx/modules/ngx_http_pit_auth_module.so';
my $EXAMPLE = '/usr/share/doc/pit-auth-tools/examples/nginx-pit-auth.conf';
my $SNIPPET = '/etc/nginx/conf.d/zz-pit-auth-deb-test.conf';

plan skip_all => 'installs packages and changes /etc/nginx: runs only as '
               . 'root (as in CI)' if $> != 0;
plan skip_all => 'checks the packaged module in the stock nginx, not '
               . 'under PIT_NGINX / PIT_NGINX_MODULE / PIT_NGINX_PREFIX'
    if grep { defined $ENV{$_} } qw(PIT_NGINX PIT_NGINX_MODULE PIT_NGINX_PREFIX);
plan skip_all => 'not a Debian system with apt-get, dpkg and nginx'
    unless -x '/usr/bin/apt-get' && -x '/usr/bin/dpkg'
        && -x '/usr/sbin/nginx' && -d '/etc/nginx';

my %deb;
for my $p (@PKGS) {
    my @f = glob "$top/build/deb/${p}_*.deb";
    $deb{$p} = $f[-1] if @f == 1;
}
if (grep { !$deb{$_} } @PKGS) {
    if ($ENV{PIT_REQUIRE_BUILD}) {
        plan tests => 1;
        fail('build/deb/{' . join(',', @PKGS) . '}_*.deb exist '
             . '(PIT_REQUIRE_BUILD is set; run make deb)');
        exit 1;
    }
    plan skip_all => 'build/deb/*.deb missing (one of each of '
                   . join(', ', @PKGS) . '): run make deb';
}

sub deb_field {
    my ($file, $field) = @_;
    my ($rc, $out) = run_cmd(['dpkg-deb', '-f', $file, $field]);
    chomp $out;
    return $out;
}

# "installed VERSION", "config-files VERSION" or "not-installed".
sub pkg_state {
    my ($p) = @_;
    my ($rc, $out) = run_cmd(['dpkg-query', '-W',
                              '-f=${db:Status-Status} ${Version}', $p]);
    return 'not-installed' if $rc || $out !~ /^(\S+) ?(\S*)/;
    return 'not-installed' if $1 eq 'not-installed';
    return "$1 $2";
}

# Every package dpkg knows, with its state: apt must not add or change any
# other package (everything the .debs depend on is there already).
sub all_packages {
    my ($rc, $out) = run_cmd(['dpkg-query', '-W',
        '-f=${binary:Package} ${Version} ${db:Status-Abbrev}\n']);
    my %h;
    for (split /\n/, $out) {
        my ($p, $rest) = split / /, $_, 2;
        next if grep { $p =~ /^\Q$_\E(:|$)/ } @PKGS;
        $h{$p} = $rest;
    }
    return \%h;
}

my %before = map { $_ => pkg_state($_) } @PKGS;
for my $p (@PKGS) {
    my $v = deb_field($deb{$p}, 'Version');
    next if $before{$p} eq 'not-installed' || $before{$p} =~ / \Q$v\E$/;
    plan skip_all => "$p is $before{$p} here; the test installs $v and "
                   . 'could not put that version back';
}

# The system service: the test never starts it (and stops it again should
# anything start it).
sub service_pid {
    my $pid = slurp('/run/nginx.pid');
    chomp $pid;
    return ($pid =~ /^\d+$/ && kill(0, $pid)) ? $pid : 0;
}
my $service_before = service_pid();

# A manifest of /etc/nginx: every path with type, mode, owner, mtime, link
# target or content hash.
sub manifest {
    my %m;
    File::Find::find({ no_chdir => 1, wanted => sub {
        my @st = Time::HiRes::lstat($_) or return;
        my $what = -l _ ? 'link:' . readlink($_)
                 : -d _ ? 'dir'
                 : -f _ ? 'file:' . Digest::SHA->new(256)->addfile($_)->hexdigest
                 : 'other';
        $m{$_} = sprintf '%s mode=%o uid=%d gid=%d mtime=%.9f', $what,
                         $st[2] & 07777, $st[4], $st[5], $st[9];
    } }, '/etc/nginx');
    return \%m;
}

my ($rc0, undef, $err0) = run_cmd(['/usr/sbin/nginx', '-t', '-q']);
plan skip_all => "the stock configuration fails nginx -t already: $err0"
    if $rc0;

my $tmp = tempdir(CLEANUP => 1);
my $tar = "$tmp/etc-nginx.tar";
my $snapshot = manifest();
my $packages_before = all_packages();
{
    my ($rc, undef, $err) = run_cmd(['tar', '-C', '/etc', '-H', 'posix',
        '--numeric-owner', '--acls', '--xattrs', '-cpf', $tar, 'nginx']);
    plan skip_all => "cannot save /etc/nginx with tar: $err" if $rc;
}

my @apt = ('apt-get', '-y', '-q', '-o', 'DPkg::Lock::Timeout=300',
           '-o', 'Dpkg::Use-Pty=0');
my %apt_env = (DEBIAN_FRONTEND => 'noninteractive');

# Puts the packages back as they were, /etc/nginx back exactly, stops a
# system nginx the test may have started.  Runs once: at the end of the
# test (with checks) or from END when the test dies.
my $restored = 0;
my @restore_log;
sub restore {
    return if $restored++;
    my @inst = grep { $before{$_} ne 'not-installed' } @PKGS;
    if (@inst) {
        # Same version as the .debs (checked above): reinstall it, and
        # remove again what was only in config-files state.
        push @restore_log, [run_cmd([@apt, 'install', '--reinstall',
            '--no-install-recommends', map { $deb{$_} } @inst],
            env => \%apt_env)];
        my @rc = grep { $before{$_} =~ /^config-files/ } @inst;
        push @restore_log, [run_cmd([@apt, 'remove', @rc], env => \%apt_env)]
            if @rc;
    }
    my @gone = grep { $before{$_} eq 'not-installed'
                      && pkg_state($_) ne 'not-installed' } @PKGS;
    push @restore_log, [run_cmd([@apt, 'purge', @gone], env => \%apt_env)]
        if @gone;
    unlink $SNIPPET;
    if (-e $tar) {
        # Unpacked beside it first: /etc/nginx is only replaced (two
        # renames) once the saved copy is complete.
        my $new = "/etc/.pit-auth-deb-test.new.$$";
        my $old = "/etc/.pit-auth-deb-test.old.$$";
        system('rm', '-rf', $new, $old);
        if (mkdir($new) && system('tar', '-C', $new, '--numeric-owner',
                                  '--acls', '--xattrs', '-xpf', $tar) == 0
            && rename('/etc/nginx', $old) && rename("$new/nginx", '/etc/nginx')) {
            system('rm', '-rf', $new, $old);
        } else {
            push @restore_log, [1, '', "restoring /etc/nginx failed: $! "
                                       . "(saved copy: $new)\n"];
        }
    }
    my $pid = service_pid();
    if (!$service_before && $pid) {
        kill 'QUIT', $pid;
        push @restore_log, [1, '', "stopped a system nginx ($pid)\n"];
    }
}

my ($nginx, $redis);
END {
    $nginx->stop if $nginx;
    $redis->stop if $redis;
    if (!$restored && $tar && -e $tar) {
        restore();
        print STDERR "# deb_package.t: restored packages and /etc/nginx "
                   . "after an early end\n";
        print STDERR map { "# $_->[2]" } grep { $_->[0] } @restore_log;
    }
}
$SIG{INT} = $SIG{TERM} = sub { die "killed by signal\n" };

sub nginx_t {
    my (@args) = @_;
    return run_cmd(['/usr/sbin/nginx', '-t', @args]);
}

eval {
    # -- the packages themselves
    like(deb_field($deb{'libnginx-mod-http-pit-auth'}, 'Depends'),
         qr/(^|, )nginx-abi-[\d.]+-\d+(,|$)/,
         'the module depends on the nginx ABI (dh_nginx)');
    for my $lib (qw(libhiredis0.14 libjansson4 libssl3)) {
        like(deb_field($deb{$_}, 'Depends'), qr/(^|, )\Q$lib\E\b/,
             "$_ depends on $lib (dh_shlibdeps)") for @PKGS;
    }
    my (undef, $list) = run_cmd(['dpkg-deb', '-c', $deb{'pit-auth-tools'}]);
    like($list, qr{ \./usr/share/man/man1/pitctl\.1\.gz$}m,
         'pit-auth-tools ships usr/share/man/man1/pitctl.1.gz');
    like($list, qr{ \./usr/share/pit-auth/console/index\.html$}m,
         'pit-auth-tools ships the console (pitctl serve\'s default '
         . '--console)');

    # -- install
    my ($rc, $out, $err) = run_cmd([@apt, 'install', '--no-install-recommends',
                                    $deb{'libnginx-mod-http-pit-auth'},
                                    $deb{'pit-auth-tools'}], env => \%apt_env);
    is($rc, 0, 'apt-get install ./build/deb/*.deb') or diag "$out\n$err";
    like(pkg_state($_), qr/^installed /, "$_ installed") for @PKGS;
    is_deeply(all_packages(), $packages_before,
              'no other package installed or changed');
    ok(-f $SO, "$SO installed");
    is(slurp($AVAIL), "load_module modules/ngx_http_pit_auth_module.so;\n",
       "$AVAIL loads the module");
    is(readlink($ENABLED), $AVAIL, "$ENABLED links to it (postinst)");
    ok(-x '/usr/bin/pitctl', '/usr/bin/pitctl installed');

    ($rc, $out, $err) = nginx_t();
    is($rc, 0, 'nginx -t: the stock configuration with the module enabled')
        or diag $err;
    ($rc, $out, $err) = run_cmd(['/usr/sbin/nginx', '-T', '-q']);
    like($out, qr{^load_module modules/ngx_http_pit_auth_module\.so;$}m,
         'nginx -T: the stock nginx.conf loads it through modules-enabled');

    # -- the shipped example as a conf.d snippet, at a private Redis
    $redis = PitTest::Redis->new;
    my $port = free_port();
    my $up_port = free_port();
    my $conf = slurp($EXAMPLE);
    ok(length $conf, "$EXAMPLE installed");
    ok($conf =~ s/^(\s*pit_auth_redis\s+)127\.0\.0\.1:6379;/${1}127.0.0.1:${\ $redis->port};/m
       && $conf =~ s/^(\s*listen\s+)127\.0\.0\.1:8080;/${1}127.0.0.1:$port;/m
       && $conf =~ s/^(\s*server\s+)127\.0\.0\.1:9000;/${1}127.0.0.1:$up_port;/m,
       'the example names a Redis, a listen port and an upstream to adjust');
    open my $fh, '>', $SNIPPET or die "$SNIPPET: $!";
    print $fh $conf;
    close $fh;
    ($rc, $out, $err) = nginx_t();
    is($rc, 0, 'nginx -t: stock configuration + the example in conf.d')
        or diag $err;

    # -- a separate nginx (own prefix and pid file, never the service),
    # loading the module the stock way: modules-enabled, whose load_module
    # path is relative to the prefix
    $nginx = PitTest::Nginx->new(port => $port, module => '', no_start => 1,
        main => 'include /etc/nginx/modules-enabled/*.conf;',
        http => "include $SNIPPET;\n"
              . "server { listen 127.0.0.1:$up_port; "
              . "return 200 \"upstream saw \$http_x_pit_account_id\\n\"; }");
    symlink '/usr/lib/nginx/modules', $nginx->dir . '/modules' or die $!;
    ($rc, $out, $err) = $nginx->test_conf;
    is($rc, 0, 'nginx -t: a separate instance with the snippet') or diag $err;
    $nginx->start;

    my $r = PitTest::HTTP::request($port, 'GET /contacts/1');
    is($r->{status}, 401, 'no token: 401');
    like(PitTest::HTTP::header($r, 'WWW-Authenticate') // '', qr/^Bearer /,
         'with a Bearer challenge');

    local $ENV{PITCTL} = '/usr/bin/pitctl';
    my ($id, $token) = PitTest::Pitctl::create($redis, account => 'acct1',
        scopes => ['contacts.readonly']);
    like($token, qr/^pit-[0-9a-f-]{36}$/, '/usr/bin/pitctl create: a token');
    $r = PitTest::HTTP::request($port, 'GET /contacts/1',
                                headers => [Authorization => "Bearer $token"]);
    is($r->{status}, 200, 'its token: 200');
    is($r->{body}, "upstream saw acct1\n", 'passed on, annotated');
    $r = PitTest::HTTP::request($port, 'GET /locations/acct1/x',
                                headers => [Authorization => "Bearer $token"]);
    is($r->{status}, 403, 'a scope it lacks: 403');
    is_deeply([$nginx->bad_log_lines], [], 'no alert, crit or emerg logged');
    $nginx->stop;
    undef $nginx;

    # -- pitctl(1)
    my $excluded = '';
    for my $f (glob '/etc/dpkg/dpkg.cfg.d/*') {
        for (split /\n/, slurp($f)) {
            $excluded .= "$f: $_\n"
                if m{^\s*path-exclude[=\s]+/usr/share/man(/|\*|$)};
        }
    }
    if ($excluded) {
        diag "dpkg excludes manual pages on this system ($excluded): "
           . 'man -w is not checked; the .deb holds the page (above)';
    } elsif (!-x '/usr/bin/man') {
        diag 'man-db is not installed: man -w is not checked';
        ok(-f '/usr/share/man/man1/pitctl.1.gz', 'pitctl.1.gz installed');
    } else {
        ($rc, $out, $err) = run_cmd(['man', '-w', 'pitctl']);
        is($out, "/usr/share/man/man1/pitctl.1.gz\n", 'man -w pitctl');
    }

    # -- remove, then purge
    unlink $SNIPPET;
    ($rc, $out, $err) = run_cmd([@apt, 'remove', @PKGS], env => \%apt_env);
    is($rc, 0, 'apt-get remove') or diag "$out\n$err";
    ok(!-e $ENABLED && !-l $ENABLED, 'remove: the modules-enabled link is gone');
    ok(!-e $SO, 'remove: the module is gone');
    ok(!-e '/usr/bin/pitctl', 'remove: pitctl is gone');
    ($rc, $out, $err) = nginx_t();
    is($rc, 0, 'nginx -t after remove') or diag $err;
    ($rc, $out, $err) = run_cmd([@apt, 'purge', @PKGS], env => \%apt_env);
    is($rc, 0, 'apt-get purge') or diag "$out\n$err";
    is(pkg_state($_), 'not-installed', "$_ purged") for @PKGS;
    is_deeply([glob '/etc/nginx/modules-enabled/*pit-auth*'], [],
              'purge: nothing of the module left in modules-enabled');
    ($rc, $out, $err) = nginx_t();
    is($rc, 0, 'nginx -t after purge') or diag $err;
    1;
} or fail("the test died: $@");

# -- put everything back
$nginx->stop if $nginx;
$redis->stop if $redis;
restore();
for (@restore_log) {
    my ($rc, $out, $err) = @$_;
    is($rc, 0, 'restoring the state before the test') or diag "$out\n$err";
}
is_deeply({ map { $_ => pkg_state($_) } @PKGS }, \%before,
          'the packages are as they were before the test');
is_deeply(all_packages(), $packages_before,
          'every other package is as it was');
is_deeply(manifest(), $snapshot,
          '/etc/nginx restored exactly (files, contents, links, modes)');
is(!!service_pid(), !!$service_before,
   'the system nginx service is as it was (not started)');

done_testing;
