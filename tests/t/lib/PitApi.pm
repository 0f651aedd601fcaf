package PitApi;

# The admin API under test: a real redis-server, `pitctl serve` on a
# loopback port (or a unix socket), and a real nginx in front loading the
# module: auth_basic with an htpasswd file made here by `openssl passwd
# -apr1`, X-Remote-User set from $remote_user, nginx's side of the
# upstream bound to 127.0.0.2 (the only trusted proxy), admin tokens
# (Bearer pat-...) passed through without auth_basic; the admin API at
# location /api/ (pitctl serve's /api/v1/...), as in the README's "Admin
# API".  The same nginx enforces issued tokens at /edge/ (pit_auth) for
# end-to-end checks.
#
# Every answer of pitctl serve is checked against
# docs/admin-api.openapi.json: the status must be documented for the
# operation and the body must match its schema (a JSON-schema subset:
# type, properties, required, additionalProperties, items, enum, $ref,
# allOf).  Problems collect in ->schema_errors; operations seen in ->seen.

use strict;
use warnings;

use File::Temp qw(tempdir);
use JSON::PP ();
use MIME::Base64 qw(encode_base64);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use PitTest;
use PitModule;

my $JSON = JSON::PP->new->utf8->canonical;

sub front_conf {
    my ($upstream, $dir) = @_;
    # nginx's side of a TCP upstream connection: the trusted proxy address
    my $bind = $upstream =~ /^unix:/ ? '' : 'proxy_bind 127.0.0.2;';
    return (http => <<"END", server => <<"END2");
    map \$http_authorization \$pit_admin_realm {
        "~*^bearer[ \\t]+pat-"  off;
        default                "pit-auth admin";
    }
    map \$http_authorization \$pit_admin_bearer {
        "~*^bearer[ \\t]+pat-"  \$http_authorization;
        default                "";
    }
    upstream pitctl_serve {
        server $upstream;
    }
END
        location /api/ {
            auth_basic \$pit_admin_realm;
            auth_basic_user_file $dir/htpasswd;
            proxy_set_header X-Remote-User \$remote_user;
            proxy_set_header Authorization \$pit_admin_bearer;
            proxy_set_header Host \$http_host;
            $bind
            client_body_buffer_size 128k;
            proxy_pass http://pitctl_serve;
        }
        location = /healthz {
            $bind
            proxy_pass http://pitctl_serve;
        }
        location /edge/ {
            pit_auth on;
            proxy_pass %%UP%%;
        }
END2
}

# new(users => {alice => 'pw', ...}, serve_args => [...], unix => 1,
#     redis => existing, no_nginx => 1)
sub new {
    my ($class, %o) = @_;
    my $self = bless { dir => tempdir(CLEANUP => 1), seen => {},
                       schema_errors => [], owner => $$ }, $class;
    $self->{redis} = $o{redis} // PitTest::Redis->new;
    $self->{spec} = $JSON->decode(PitTest::slurp(
        PitTest::top() . '/docs/admin-api.openapi.json'));
    $self->{users} = $o{users} // {};
    $self->{serve_args} = $o{serve_args} // [];
    $self->{unix} = $o{unix};
    $self->{sport} = PitTest::free_port();

    open my $fh, '>', "$self->{dir}/htpasswd" or die;
    for my $u (sort keys %{ $self->{users} }) {
        my ($rc, $hash) = PitTest::run_cmd(['openssl', 'passwd', '-apr1',
                                            $self->{users}{$u}]);
        die "openssl passwd failed" if $rc;
        chomp $hash;
        print $fh "$u:$hash\n";
    }
    close $fh;
    # nginx's workers (nobody, when the tests run as root) read it
    chmod 0755, $self->{dir};
    chmod 0644, "$self->{dir}/htpasswd";

    $self->start_serve;
    unless ($o{no_nginx}) {
        my $up = $self->{unix} ? "unix:$self->{dir}/api.sock"
                               : "127.0.0.1:$self->{sport}";
        $self->{front} = PitModule->new(redis => $self->{redis},
                                        front_conf($up, $self->{dir}));
    }
    return $self;
}

sub redis { $_[0]{redis} }
sub front { $_[0]{front} }
sub dir   { $_[0]{dir} }
sub serve_port { $_[0]{sport} }
sub access_log { PitTest::slurp("$_[0]{dir}/access.log") }
sub serve_err  { PitTest::slurp("$_[0]{dir}/serve.err") }

sub pitctl {
    my ($self, @args) = @_;
    return PitTest::Pitctl::run($self->{redis}, '--as', 'root', @args);
}

sub start_serve {
    my ($self) = @_;
    my $listen = $self->{unix} ? "unix:$self->{dir}/api.sock"
                               : "127.0.0.1:$self->{sport}";
    my @cmd = (PitTest::Pitctl::bin(), '--redis', $self->{redis}->url,
               'serve', '--listen', $listen, '--trusted-proxy', '127.0.0.2',
               '--access-log', "$self->{dir}/access.log",
               $self->{unix} ? ('--socket-mode', '0666') : (),
               @{ $self->{serve_args} });
    my $pid = fork // die;
    if ($pid == 0) {
        open STDOUT, '>>', "$self->{dir}/serve.err";
        open STDERR, '>&', \*STDOUT;
        { exec @cmd; }
        POSIX::_exit(127);
    }
    $self->{spid} = $pid;
    my $end = time + 10;
    while (time < $end) {
        last if $self->{unix} ? -S "$self->{dir}/api.sock"
                              : PitTest::wait_port($self->{sport}, 0.05);
        sleep 0.02;
    }
    sleep 0.05;
}

sub serve_pid { $_[0]{spid} }

# Sends SIGTERM; returns pitctl serve's exit status (undef on timeout).
sub stop_serve {
    my ($self, $secs) = @_;
    return unless $self->{spid};
    kill 'TERM', $self->{spid};
    my $end = time + ($secs // 15);
    while (time < $end) {
        if (waitpid($self->{spid}, WNOHANG) > 0) {
            delete $self->{spid};
            return $? >> 8;
        }
        sleep 0.02;
    }
    kill 'KILL', $self->{spid};
    waitpid $self->{spid}, 0;
    delete $self->{spid};
    return undef;
}

sub DESTROY {
    my ($self) = @_;
    local $?;                   # the test's exit status
    return unless $$ == $self->{owner} && $self->{spid};
    kill 'KILL', $self->{spid};
    waitpid $self->{spid}, 0;
}

# call(METHOD, PATH, user => NAME (basic auth with its password), token =>
# pat-..., json => perl data, body => raw, ctype => ..., headers => [...],
# direct => 1 (to pitctl serve, not through nginx))
sub call {
    my ($self, $method, $path, %o) = @_;
    my @h = @{ $o{headers} // [] };
    if (defined $o{user}) {
        my $pw = $o{password} // $self->{users}{ $o{user} } // 'x';
        push @h, Authorization => 'Basic '
                 . encode_base64("$o{user}:$pw", '');
    }
    push @h, Authorization => "Bearer $o{token}" if defined $o{token};
    my $body = $o{body};
    $body = $JSON->encode($o{json}) if exists $o{json};
    if (defined $body && !exists $o{ctype}) {
        push @h, 'Content-Type' => 'application/json';
    }
    push @h, 'Content-Type' => $o{ctype} if defined $o{ctype};
    my $res;
    if ($o{direct} && $self->{unix}) {
        $res = unix_request("$self->{dir}/api.sock", "$method $path",
                            headers => \@h, body => $body);
    } else {
        my $port = $o{direct} ? $self->{sport} : $self->{front}->port;
        $res = PitTest::HTTP::request($port, "$method $path",
                                      headers => \@h, body => $body,
                                      timeout => $o{timeout});
    }
    $res->{json} = eval { $JSON->decode($res->{body}) }
        if length($res->{body} // '');
    $self->check($method, $path, $res);
    return $res;
}

sub unix_request {
    my ($sock, $line, %o) = @_;
    require IO::Socket::UNIX;
    my $s = IO::Socket::UNIX->new(Peer => $sock) or return { status => 0 };
    my @h = @{ $o{headers} // [] };
    my $req = "$line HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    while (my ($k, $v) = splice @h, 0, 2) { $req .= "$k: $v\r\n"; }
    my $body = $o{body} // '';
    $req .= "Content-Length: " . length($body) . "\r\n" if length $body;
    $s->print("$req\r\n$body");
    my $raw = '';
    while (sysread $s, my $buf, 65536) { $raw .= $buf; }
    return PitTest::HTTP::parse_response($raw);
}

###########################################################################
# The OpenAPI check

sub operation {
    my ($self, $method, $path) = @_;
    $path =~ s/\?.*//;
    for my $tmpl (keys %{ $self->{spec}{paths} }) {
        (my $re = $tmpl) =~ s/\{[^}]+\}/[^\/]+/g;
        next unless $path =~ /^$re$/;
        my $op = $self->{spec}{paths}{$tmpl}{lc $method} or return;
        return $op;
    }
    return;
}

sub check {
    my ($self, $method, $path, $res) = @_;
    my $op = $self->operation($method, $path) or return;
    my $st = $res->{status};
    my $www = PitTest::HTTP::header($res, 'WWW-Authenticate') // '';
    return if $st == 401 && $www =~ /^Basic/;       # nginx's auth_basic
    my $id = $op->{operationId};
    my $doc = $op->{responses}{$st};
    if (!$doc) {
        push @{ $self->{schema_errors} }, "$id: status $st not documented";
        return;
    }
    $self->{seen}{$id}{$st}++;
    my $cc = PitTest::HTTP::header($res, 'Cache-Control') // '';
    push @{ $self->{schema_errors} }, "$id $st: Cache-Control '$cc'"
        unless $cc eq 'no-store';
    my $schema = $doc->{content}{'application/json'}{schema};
    if (!$schema) {
        push @{ $self->{schema_errors} }, "$id $st: a body"
            if length($res->{body} // '');
        return;
    }
    if (!defined $res->{json} && !ref $res->{json}) {
        my $ok = eval { $JSON->decode($res->{body}); 1 };
        if (!$ok) {
            push @{ $self->{schema_errors} }, "$id $st: not JSON";
            return;
        }
    }
    my $data = $JSON->decode($res->{body});
    push @{ $self->{schema_errors} },
         map { "$id $st: $_" } $self->validate($schema, $data, '$');
}

sub resolve {
    my ($self, $s) = @_;
    while ($s->{'$ref'}) {
        my ($name) = $s->{'$ref'} =~ m{^#/components/schemas/(.+)$};
        $s = $self->{spec}{components}{schemas}{$name}
            or die "unknown \$ref $s->{'$ref'}";
    }
    return $s;
}

sub type_of {
    my ($v) = @_;
    return 'null' unless defined $v;
    return 'object' if ref $v eq 'HASH';
    return 'array' if ref $v eq 'ARRAY';
    return 'boolean' if JSON::PP::is_bool($v);
    return 'integer' if !ref $v && B::svref_2object(\$v)->FLAGS & B::SVp_IOK()
                        && $v =~ /^-?\d+$/;
    return 'number' if !ref $v && B::svref_2object(\$v)->FLAGS
                       & (B::SVp_NOK() | B::SVp_IOK());
    return 'string';
}

# Returns the problems of data against schema (a JSON-schema subset).
sub validate {
    my ($self, $schema, $v, $at) = @_;
    require B;
    my $s = $self->resolve($schema);
    my @bad;
    for my $sub (@{ $s->{allOf} // [] }) {
        my %copy = %{ $self->resolve($sub) };
        push @bad, $self->validate(\%copy, $v, $at);
    }
    if (my $t = $s->{type}) {
        my @types = ref $t ? @$t : ($t);
        my $got = type_of($v);
        my $ok = grep { $_ eq $got || ($_ eq 'number' && $got eq 'integer') }
                 @types;
        return (@bad, "$at: $got, not " . join('|', @types)) unless $ok;
    }
    if (my $e = $s->{enum}) {
        push @bad, "$at: '$v' not in enum"
            unless grep { defined $v && $_ eq $v } @$e;
    }
    if (ref $v eq 'HASH') {
        for my $r (@{ $s->{required} // [] }) {
            push @bad, "$at: $r missing" unless exists $v->{$r};
        }
        my $props = $s->{properties} // {};
        for my $k (sort keys %$v) {
            if ($props->{$k}) {
                push @bad, $self->validate($props->{$k}, $v->{$k}, "$at.$k");
            } elsif (defined $s->{additionalProperties}
                     && !$s->{additionalProperties} && !$s->{allOf}) {
                push @bad, "$at: unexpected $k";
            }
        }
    }
    if (ref $v eq 'ARRAY' && $s->{items}) {
        my $i = 0;
        push @bad, $self->validate($s->{items}, $_, "$at\[" . $i++ . "]")
            for @$v;
    }
    return @bad;
}

sub seen { $_[0]{seen} }
sub schema_errors { @{ $_[0]{schema_errors} } }

# Every operationId of the document.
sub operations {
    my ($self) = @_;
    my @ids;
    for my $p (values %{ $self->{spec}{paths} }) {
        for my $m (qw(get post patch delete put)) {
            push @ids, $p->{$m}{operationId} if $p->{$m};
        }
    }
    return sort @ids;
}

1;
