package PitTest;

# A small core-Perl harness in the style of nginx-tests: every test gets a
# temporary directory, a real redis-server (and, for module tests, a real
# nginx loading the built module) on loopback ports chosen at run time, and
# stops them when the test ends, however it ends.

use strict;
use warnings;

use Exporter qw(import);
use File::Temp qw(tempdir);
use File::Spec;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use Cwd qw(abs_path);
use FindBin;

our @EXPORT_OK = qw(top free_port run_cmd slurp);

# Environment knobs for whole-suite runs (all optional):
#   PIT_NGINX         the nginx binary (default /usr/sbin/nginx), e.g. a
#                     sanitized build
#   PIT_NGINX_MODULE  the module to load_module (default
#                     build/ngx_http_pit_auth_module.so); empty when the
#                     module is built into PIT_NGINX
#   PIT_NGINX_PREFIX  a command (words) to run nginx under, e.g. valgrind
#   PIT_LOG_LEVEL     error_log level of every nginx, e.g. debug
#   PIT_TEST_KEEP     a directory: every Redis and nginx directory is made
#                     in it and kept, and each Redis saves an RDB
#                     snapshot (keep-*.rdb) when stopped

#   PIT_REQUIRE_BUILD set (make prove, make test, the nginx matrix): a
#                     missing pitctl, module or nginx fails every test file
#                     (PitTest dies when loaded) instead of skipping it

sub nginx_bin { $ENV{PIT_NGINX} || '/usr/sbin/nginx' }

# PIT_REQUIRE_BUILD: what the suite tests must exist, or the file fails.
if ($ENV{PIT_REQUIRE_BUILD}) {
    my $top = top();
    my $pitctl = $ENV{PITCTL} // "$top/build/pitctl";
    my $module = $ENV{PIT_NGINX_MODULE}
                 // "$top/build/ngx_http_pit_auth_module.so";
    my @missing;
    push @missing, "pitctl $pitctl" unless -x $pitctl;
    push @missing, "module $module" if length $module && !-f $module;
    push @missing, "nginx " . nginx_bin() unless -x nginx_bin();
    die "PIT_REQUIRE_BUILD is set and the build is incomplete: missing "
        . join(', ', @missing) . " (run make)\n" if @missing;
}

# A directory for one server, removed at exit unless PIT_TEST_KEEP is set.
sub server_dir {
    my $keep = $ENV{PIT_TEST_KEEP};
    return tempdir(CLEANUP => 1) unless $keep;
    return tempdir('srv-XXXXXXXX', DIR => $keep, CLEANUP => 0);
}

sub top {
    my $dir = abs_path($FindBin::Bin);
    while ($dir ne '/' && !-f "$dir/Makefile") {
        $dir = abs_path("$dir/..");
    }
    return $dir;
}

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    my $s = <$fh>;
    return $s // '';
}

# A port nobody listens on now, and never handed out before in this
# process: the kernel may pick the same free port for two calls in a row,
# and two servers of one nginx given the same port share it silently (the
# upstream then is the front server itself).  A race with another process
# binding it in between is possible but harmless in practice.
my %handed_out;
sub free_port {
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => 0, Proto => 'tcp',
                                      Listen => 1, ReuseAddr => 1)
            or die "free_port: $!";
        my $port = $s->sockport;
        close $s;
        return $port unless $handed_out{$port}++;
    }
    die "free_port: no port not handed out already";
}

# Runs a command with optional stdin; returns (exit code, stdout, stderr).
sub run_cmd {
    my ($argv, %o) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my ($in, $out, $err) = map { "$dir/$_" } qw(in out err);
    open my $fh, '>', $in or die; print $fh ($o{stdin} // ''); close $fh;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', $in; open STDOUT, '>', $out; open STDERR, '>', $err;
        %ENV = (%ENV, %{ $o{env} // {} });
        { exec @$argv; }
        POSIX::_exit(127);
    }
    my $rc;
    if ($o{timeout}) {
        # Optional: give up after timeout seconds, kill the command and
        # report rc -1 (used to show that a command does not hang).
        my $end = time + $o{timeout};
        while (waitpid($pid, WNOHANG) == 0) {
            if (time > $end) {
                kill 'KILL', $pid;
                waitpid $pid, 0;
                return (-1, slurp($out), slurp($err));
            }
            sleep 0.02;
        }
    } else {
        waitpid $pid, 0;
    }
    $rc = $? >> 8;
    return ($rc, slurp($out), slurp($err));
}

sub wait_port {
    my ($port, $secs) = @_;
    my $end = time + ($secs // 5);
    while (time < $end) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp');
        return 1 if $s;
        sleep 0.02;
    }
    return 0;
}

###########################################################################
# Redis

package PitTest::Redis;

use File::Temp qw(tempdir);
use JSON::PP ();
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

sub new {
    my ($class, %o) = @_;
    my $self = bless { dir => $o{dir} // PitTest::server_dir(),
                       owner => $$,
                       port => $o{port} // PitTest::free_port(),
                       extra => $o{extra} // [] }, $class;
    $self->start;
    return $self;
}

sub port { $_[0]{port} }
sub url  { "redis://127.0.0.1:$_[0]{port}" }

sub start {
    my ($self) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$self->{dir}/redis.out";
        open STDERR, '>&', \*STDOUT;
        { exec 'redis-server', '--port', $self->{port}, '--bind', '127.0.0.1',
            '--save', '', '--appendonly', 'no', '--dir', $self->{dir},
            '--daemonize', 'no', '--logfile', '', @{ $self->{extra} }; }
        POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    PitTest::wait_port($self->{port}, 10)
        or die "redis-server did not start: "
               . PitTest::slurp("$self->{dir}/redis.out");
    my $end = time + 5;
    until (($self->cmd('PING') // '') eq 'PONG') {
        die "redis-server not answering" if time > $end;
        sleep 0.02;
    }
}

sub pid { $_[0]{pid} }

sub stop {
    my ($self, $sig) = @_;
    return unless $self->{pid};
    kill 'CONT', $self->{pid};
    $self->snapshot if $ENV{PIT_TEST_KEEP};
    kill $sig // 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
}

sub restart { my ($self) = @_; $self->stop; $self->start; }

# PIT_TEST_KEEP only: SAVE, uncompressed, moved to keep-N.rdb (never the
# file a restart would load), and every audit stream as text in
# keep-N.audit, for tests that search them for secrets.
sub snapshot {
    my ($self) = @_;
    my $n = ++$self->{snapshots};
    my $base = "$self->{dir}/keep-$$-$n";
    open my $fh, '>', "$base.audit" or return;
    for my $k ($self->keys_matching('*audit*')) {
        print $fh "$k\n", $self->raw('XRANGE', $k, '-', '+'), "\n";
    }
    close $fh;
    $self->cmd('CONFIG', 'SET', 'rdbcompression', 'no');
    return unless ($self->cmd('SAVE') // '') eq 'OK';
    rename "$self->{dir}/dump.rdb", "$base.rdb";
}

# Runs one command through redis-cli; returns its output without the
# trailing newline (a list in list context).
sub cmd {
    my ($self, @args) = @_;
    my ($rc, $out) = PitTest::run_cmd(['redis-cli', '-p', $self->{port},
                                       '--no-raw', @args]);
    $out = '' unless defined $out;
    my @lines = map { s/^\d+\) //r } split /\n/, $out;
    @lines = map { s/^"(.*)"$/$1/sr } @lines;
    return wantarray ? @lines : $lines[0];
}

# Raw output of redis-cli --raw (values exactly as stored).
sub raw {
    my ($self, @args) = @_;
    my ($rc, $out) = PitTest::run_cmd(['redis-cli', '-p', $self->{port},
                                       '--raw', @args]);
    chomp $out;
    return $out;
}

sub keys_matching {
    my ($self, $pat) = @_;
    return grep { length } $self->raw_list('KEYS', $pat // '*');
}

sub raw_list {
    my ($self, @args) = @_;
    my $out = $self->raw(@args);
    return split /\n/, $out;
}

# Every key and value of a database (strings, hashes, sets, sorted sets,
# lists, streams) as one string, for "no secret anywhere" checks.
sub dump_all {
    my ($self, $db) = @_;
    my $lua = <<'LUA';
local out = {}
local function add(v) out[#out + 1] = tostring(v) end
for _, k in ipairs(redis.call('KEYS', '*')) do
  add(k)
  local t = redis.call('TYPE', k)['ok']
  local vals = {}
  if t == 'string' then vals = {redis.call('GET', k)}
  elseif t == 'hash' then vals = redis.call('HGETALL', k)
  elseif t == 'set' then vals = redis.call('SMEMBERS', k)
  elseif t == 'zset' then vals = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
  elseif t == 'list' then vals = redis.call('LRANGE', k, 0, -1)
  elseif t == 'stream' then
    for _, e in ipairs(redis.call('XRANGE', k, '-', '+')) do
      add(e[1])
      for _, f in ipairs(e[2]) do add(f) end
    end
  end
  for _, v in ipairs(vals) do add(v) end
end
return table.concat(out, "\n")
LUA
    return $self->raw(defined $db ? ('-n', $db) : (), 'EVAL', $lua, 0);
}

# The JSON value of a string key, decoded (undef if absent or not JSON).
sub get_json {
    my ($self, $key) = @_;
    my $v = $self->raw('GET', $key);
    return undef unless length $v;
    return eval { JSON::PP->new->utf8->decode($v) };
}

sub DESTROY { local $?; $_[0]->stop if $_[0]{pid} && $$ == $_[0]{owner} }

###########################################################################
# nginx

package PitTest::Nginx;

use File::Temp qw(tempdir);
use Scalar::Util qw(weaken refaddr);
use Time::HiRes qw(sleep time);

# Every nginx's error.log (and stderr) is checked, as nginx-tests'
# Test::Nginx does, when the nginx stops: each stop of a running nginx is
# one test assertion, "no [alert], [crit] or [emerg] and no sanitizer
# report"; and at done_testing every nginx still running is stopped and
# checked.  Lines a test causes on purpose are allowed with a reason:
# allow_log => [qr/.../ => 'reason', ...] in new(), or allow_log(qr, reason).
# Active in test scripts (Test::More loaded); a no-op elsewhere (soak, bench).
my %LIVE;
my $HOOKED;

# new(conf => "http-level text with %%PORT%%", workers => 1,
#     main => "extra main-context lines",
#     allow_log => [qr/a line expected/ => 'why', ...])
sub new {
    my ($class, %o) = @_;
    my $top = PitTest::top();
    my @allow = @{ delete $o{allow_log} // [] };
    my $self = bless { dir => PitTest::server_dir(),
                       port => $o{port} // PitTest::free_port(),
                       owner => $$,
                       allow => [],
                       %o }, $class;
    $self->allow_log(splice @allow, 0, 2) while @allow;
    $LIVE{refaddr $self} = $self;
    weaken $LIVE{refaddr $self};
    _hook();
    mkdir "$self->{dir}/logs";
    mkdir "$self->{dir}/html";
    my $module = $o{module} // $ENV{PIT_NGINX_MODULE}
                 // "$top/build/ngx_http_pit_auth_module.so";
    my $load = length $module ? "load_module $module;" : '';
    my $http = $o{http} // '';
    $http =~ s/%%PORT%%/$self->{port}/g;
    $http =~ s/%%DIR%%/$self->{dir}/g;
    my $workers = $o{workers} // 1;
    my $main = $o{main} // '';
    open my $fh, '>', "$self->{dir}/nginx.conf" or die;
    print $fh <<"END";
$load
daemon off;
master_process on;
worker_processes $workers;
error_log $self->{dir}/logs/error.log ${\($ENV{PIT_LOG_LEVEL} // $o{log_level} // 'info')};
pid $self->{dir}/nginx.pid;
$main
events { worker_connections 4096; }
http {
    access_log $self->{dir}/logs/access.log;
    client_body_temp_path $self->{dir}/body;
    proxy_temp_path $self->{dir}/proxy;
    fastcgi_temp_path $self->{dir}/fastcgi;
    uwsgi_temp_path $self->{dir}/uwsgi;
    scgi_temp_path $self->{dir}/scgi;
$http
}
END
    close $fh;
    $self->start unless $o{no_start};
    return $self;
}

sub dir  { $_[0]{dir} }
sub port { $_[0]{port} }
sub conf { "$_[0]{dir}/nginx.conf" }
sub error_log { PitTest::slurp("$_[0]{dir}/logs/error.log") }

sub test_conf {
    my ($self) = @_;
    return PitTest::run_cmd([PitTest::nginx_bin(), '-t', '-p', $self->{dir},
                             '-c', $self->conf]);
}

sub start {
    my ($self) = @_;
    my $pid = fork // die;
    if ($pid == 0) {
        open STDOUT, '>>', "$self->{dir}/logs/stderr";
        open STDERR, '>&', \*STDOUT;
        my @prefix = split ' ', $ENV{PIT_NGINX_PREFIX} // '';
        { exec @prefix, PitTest::nginx_bin(), '-p', $self->{dir},
              '-c', $self->conf; }
        POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    PitTest::wait_port($self->{port}, 10)
        or die "nginx did not start:\n" . $self->error_log
               . PitTest::slurp("$self->{dir}/logs/stderr");
}

sub reload {
    my ($self) = @_;
    kill 'HUP', $self->{pid};
}

sub worker_pids {
    my ($self) = @_;
    my @kids;
    for my $d (glob '/proc/[0-9]*') {
        my $stat = PitTest::slurp("$d/stat");
        my ($pid, $ppid) = $stat =~ /^(\d+) \(.*?\) \S (\d+)/ or next;
        push @kids, $pid if $ppid == $self->{pid};
    }
    return sort { $a <=> $b } @kids;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'QUIT', $self->{pid};
    my $end = time + 5;
    while (time < $end) {
        last if waitpid($self->{pid}, POSIX::WNOHANG()) > 0;
        sleep 0.02;
    }
    if (kill 0, $self->{pid}) {
        kill 'KILL', $self->{pid};
        waitpid $self->{pid}, 0;
    }
    delete $self->{pid};
    $self->check_log if $$ == $self->{owner};
}

# Lines of error.log at [alert], [crit] or [emerg], and sanitizer reports.
sub bad_log_lines {
    my ($self) = @_;
    my $log = $self->error_log . PitTest::slurp("$self->{dir}/logs/stderr");
    return grep { /\[(alert|crit|emerg)\]|AddressSanitizer|runtime error:/ }
           split /\n/, $log;
}

# allow_log(qr/line/, 'reason'): such lines do not fail the check at stop
# (a test that causes them on purpose, e.g. nginx's [alert] for a worker
# it SIGKILLs).  The reason is required, and shown when a line is allowed.
sub allow_log {
    my ($self, $re, $reason) = @_;
    die "allow_log: a pattern and a reason\n"
        unless ref $re eq 'Regexp' && defined $reason && length $reason;
    push @{ $self->{allow} }, [$re, $reason];
    return $self;
}

# The check at stop: one assertion; allowed lines are shown as notes.
sub check_log {
    my ($self) = @_;
    return unless $INC{'Test/More.pm'};
    my @bad = $self->bad_log_lines;
    my (@left, @allowed);
    LINE: for my $l (@bad) {
        for my $a (@{ $self->{allow} }) {
            if ($l =~ $a->[0]) { push @allowed, "$l  (allowed: $a->[1])"; next LINE }
        }
        push @left, $l;
    }
    my $what = "nginx in $self->{dir} stopped: no [alert], [crit], [emerg]"
               . ' or sanitizer line in its logs';
    if (Test2::API::test2_is_testing_done()
        || ${^GLOBAL_PHASE} eq 'DESTRUCT') {
        # too late for an assertion (the test died before done_testing,
        # which fails it already): say it
        print STDERR "# $what: NOT\n", map { "#   $_\n" } @left if @left;
        return;
    }
    Test::More::note("allowed: $_") for @allowed;
    local $Test::Builder::Level = $Test::Builder::Level + 2;
    Test::More::is(join("\n", @left), '', $what);
}

# At done_testing (before its plan): every nginx still running is stopped,
# so checked.
sub _hook {
    return if $HOOKED || !$INC{'Test/More.pm'};
    $HOOKED = 1;
    Test2::API::test2_add_callback_testing_done(sub {
        for my $n (grep { defined } values %LIVE) {
            $n->stop if $n->{pid} && $$ == $n->{owner};
        }
    });
}

sub DESTROY {
    my ($self) = @_;
    local $?;                   # the test's exit status
    $self->stop if $self->{pid} && $$ == $self->{owner};
    delete $LIVE{refaddr $self};
}

###########################################################################
# HTTP

package PitTest::HTTP;

use IO::Socket::INET;

# request(port, "GET /path", headers => [Name => value, ...], body => ...)
# Returns a hash: status, headers (lower-cased name => [values]), body,
# raw.  Headers are given as a list so duplicates and odd bytes are
# possible.
sub request {
    my ($port, $line, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => $o{timeout} // 10)
        or return { status => 0, error => "$!" };
    my @h = @{ $o{headers} // [] };
    my $req = "$line HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    while (my ($k, $v) = splice @h, 0, 2) { $req .= "$k: $v\r\n"; }
    my $body = $o{body} // '';
    $req .= "Content-Length: " . length($body) . "\r\n" if length $body;
    $req .= "\r\n$body";
    $s->print($req);
    local $/;
    my $raw = '';
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($o{timeout} // 10);
        while (1) {
            my $n = sysread $s, my $buf, 65536;
            last unless $n;
            $raw .= $buf;
        }
        alarm 0;
    };
    alarm 0;
    return parse_response($raw);
}

sub parse_response {
    my ($raw) = @_;
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    $head //= '';
    my @lines = split /\r\n/, $head;
    my $st = shift @lines // '';
    my ($status) = $st =~ m{^HTTP/\d\.\d (\d+)};
    my %h;
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        push @{ $h{lc $k} }, $v;
    }
    $body //= '';
    if (($h{'transfer-encoding'}[0] // '') =~ /chunked/i) {
        my $out = '';
        while ($body =~ s/^([0-9a-fA-F]+)\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($body, 0, $n, '');
            $body =~ s/^\r\n//;
        }
        $body = $out;
    }
    return { status => $status // 0, headers => \%h, body => $body,
             raw => $raw };
}

sub header { my ($r, $name) = @_; return $r->{headers}{lc $name}[0]; }

###########################################################################
# pitctl

package PitTest::Pitctl;

use JSON::PP ();
use Digest::SHA ();
use Encode ();

# pitctl($redis, @args) -> (rc, stdout, stderr)
sub run {
    my ($redis, @args) = @_;
    my %o = ref $args[-1] eq 'HASH' ? %{ pop @args } : ();
    my $bin = bin();
    my @url = $redis ? ('--redis', ref $redis ? $redis->url : $redis) : ();
    return PitTest::run_cmd([$bin, @url, @args], %o);
}

# The binary under test: $PITCTL if set (e.g. a private build), else
# build/pitctl.
sub bin { $ENV{PITCTL} // PitTest::top() . '/build/pitctl' }

# json($redis, @args) -> (rc, decoded stdout or undef, stdout, stderr);
# runs pitctl --json @args.
sub json {
    my ($redis, @args) = @_;
    my ($rc, $out, $err) = run($redis, '--json', @args);
    my $data = eval { JSON::PP->new->utf8->decode($out) };
    return ($rc, $data, $out, $err);
}

# hex(SHA-256(token)) and the Redis key of a token (default prefix pit:).
sub token_hash { Digest::SHA::sha256_hex($_[0]) }
sub token_key  { ($_[1] // 'pit:') . 'tok:' . token_hash($_[0]) }

# Checks the schema's cross-references in a Redis database: every token key
# names an existing integration whose tokens list holds its hash with the
# same role; every token of every integration has its key; name keys and
# account indexes point at existing integrations and back.  Returns a list
# of problems (empty when consistent).
sub integrity {
    my ($redis, $prefix) = @_;
    $prefix //= 'pit:';
    my @bad;
    my %int;
    for my $k ($redis->keys_matching("${prefix}int:*")) {
        my $in = $redis->get_json($k);
        if (!$in) { push @bad, "$k: not JSON"; next; }
        my ($iid) = $k =~ /int:(.*)$/;
        push @bad, "$k: id is $in->{id}" if ($in->{id} // '') ne $iid;
        $int{$iid} = $in;
    }
    my %tokkey;
    for my $k ($redis->keys_matching("${prefix}tok:*")) {
        my ($h) = $k =~ /tok:(.*)$/;
        my $rec = $redis->get_json($k);
        if (!$rec) { push @bad, "$k: not JSON"; next; }
        $tokkey{$h} = $rec;
        my $in = $int{ $rec->{iid} // '' };
        if (!$in) { push @bad, "$k: integration $rec->{iid} absent"; next; }
        my ($t) = grep { ($_->{hash} // '') eq $h } @{ $in->{tokens} || [] };
        if (!$t) { push @bad, "$k: not in tokens of $rec->{iid}"; next; }
        push @bad, "$k: role $rec->{role} vs $t->{role}"
            if ($rec->{role} // '') ne ($t->{role} // '');
    }
    for my $iid (sort keys %int) {
        my $in = $int{$iid};
        for my $t (@{ $in->{tokens} || [] }) {
            push @bad, "int $iid: token $t->{hash} has no key"
                unless $tokkey{ $t->{hash} // '' };
        }
        my $folded = Encode::encode_utf8($in->{name} =~ tr/A-Z/a-z/r);
        my $n = $redis->raw('GET', "${prefix}name:$in->{account}:$folded");
        push @bad, "int $iid: name key holds '$n'" if $n ne $iid;
        my $score = $redis->raw('ZSCORE', "${prefix}ints:$in->{account}",
                                $iid);
        push @bad, "int $iid: not in ints:$in->{account}" unless length $score;
    }
    for my $k ($redis->keys_matching("${prefix}name:*")) {
        my $iid = $redis->raw('GET', $k);
        push @bad, "$k -> $iid: no such integration" unless $int{$iid};
    }
    for my $k ($redis->keys_matching("${prefix}ints:*")) {
        for my $iid ($redis->raw_list('ZRANGE', $k, 0, -1)) {
            push @bad, "$k holds $iid: no such integration" unless $int{$iid};
        }
    }
    return @bad;
}

# Creates an integration; returns (id, token).
sub create {
    my ($redis, %o) = @_;
    my @args = ('--json', 'create', '--name', $o{name} // "app-$$-" . rand(),
                '--account', $o{account} // 'acct1');
    push @args, '--scope', $_ for @{ $o{scopes} // ['contacts.readonly'] };
    push @args, @{ $o{extra} // [] };
    my ($rc, $out, $err) = run($redis, @args);
    die "pitctl create failed ($rc): $err" if $rc;
    my ($id) = $out =~ /"id"\s*:\s*"([^"]+)"/;
    my ($tok) = $out =~ /"token"\s*:\s*"([^"]+)"/;
    return ($id, $tok);
}

1;
