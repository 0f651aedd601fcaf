#!/usr/bin/perl
# The module tells a misconfiguration from "every token invalid": each lookup
# connection reads the store mark pitctl writes (<prefix>meta) and logs a
# [warn] when it is missing (a wrong pit_auth_key_prefix or database, or an
# empty Redis) or names another hash key; pit_auth_scope_catalog checks
# constant pit_auth_scope terms at nginx -t.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use PitTest;
use PitModule;

my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;
my $keyfile = "$dir/hash.key";
open my $fh, '>', $keyfile or die;
print $fh "0123456789abcdef0123456789abcdef\n";
close $fh;

# waits until the error log matches (or 3 s pass)
sub log_after {
    my ($t, $re) = @_;
    my $end = time + 3;
    while (time < $end) {
        my $log = $t->error_log;
        return $log if $log =~ $re;
        sleep 0.05;
    }
    return $t->error_log;
}

# an empty Redis: the mark is missing
{
    my $t = PitModule->new(server => <<'END');
        location / { pit_auth on; proxy_pass %%UP%%; }
        location = /stats { pit_auth_stats; }
END
    is($t->get('/x')->{status}, 401, 'empty Redis: no token, 401');
    my $log = log_after($t, qr/no store mark/);
    like($log, qr/\[warn\].*pit_auth: redis 127\.0\.0\.1:\d+ db=0: no store mark "pit:meta": a wrong pit_auth_key_prefix or database, or an empty Redis/,
         'empty Redis: [warn] names the missing mark and the likely causes');
    like($t->get('/stats')->{body},
         qr/"store_marks":\[\{"backend":"127\.0\.0\.1:\d+","key":"pit:meta","mark":"missing"\}\]/,
         'empty Redis: pit_auth_stats shows the mark missing');

    # pitctl marks the store with its first change; a new connection is quiet
    my (undef, $tok) = $t->token;
    my $before = length $t->error_log;
    $t->redis->cmd('CLIENT', 'KILL', 'TYPE', 'normal');
    sleep 0.3;
    is($t->bearer('/x', $tok)->{status}, 200, 'marked store: the token works');
    sleep 0.3;
    my $after = substr $t->error_log, $before;
    unlike($after, qr/store mark|is hashed with/,
           'marked store: no warning on the new connection');
    like($after, qr/connected to/, '... which did reconnect');
    like($t->get('/stats')->{body}, qr/"mark":"ok"/,
         'marked store: pit_auth_stats shows the mark ok');
}

# a marked store read with the wrong prefix, the wrong db, another key
{
    my $redis = PitTest::Redis->new;
    my (undef, $tok) = PitTest::Pitctl::create($redis);
    my $t = PitModule->new(redis => $redis, server => <<"END");
        location /prefix { pit_auth on; pit_auth_key_prefix "other:"; }
        location /db { pit_auth on; pit_auth_redis %%REDIS%% db=3; }
        location /key { pit_auth on; pit_auth_hash_key $keyfile; }
        location /good { pit_auth on; return 204; }
END
    is($t->bearer('/prefix', $tok)->{status}, 401,
       'wrong prefix: the token is unknown (401)');
    my $log = log_after($t, qr/is hashed with.*\n(?s:.*)no store mark|no store mark(?s:.*)is hashed with/);
    like($log, qr/\[warn\].*no store mark "other:meta"/,
         'wrong prefix: [warn] names the key it looked for');
    $log = log_after($t, qr/db=3.*no store mark/);
    like($log, qr/\[warn\].*redis 127\.0\.0\.1:\d+ db=3: no store mark "pit:meta"/,
         'wrong database: [warn] for the db=3 backend');
    like($log, qr/\[warn\].*the store "pit:meta" is hashed with sha256 \(key fingerprint ""\), this configuration with hmac-sha256 \(key fingerprint "[0-9a-f]{16}"\)/,
         'another hash key: [warn] names both modes and fingerprints');
    unlike($log, qr/0123456789abcdef0123456789abcdef/,
           'the hash key itself is never logged');
    my @missing = $log =~ /no store mark "pit:meta"/g;
    cmp_ok(scalar @missing, '<=', 2, 'at most once per connection (1 worker)');
}

# pit_auth_scope_catalog: a typo is caught by nginx -t
{
    my $cat = "$dir/catalog.json";
    open my $c, '>', $cat or die;
    print $c '[{"name":"locations.readonly","label":"View Locations"},'
           . '{"name":"contacts.readonly","label":"View Contacts"}]';
    close $c;
    my $conf = sub {
        my ($level, $scope) = @_;
        return <<"END";
    pit_auth_redis 127.0.0.1:1;
    pit_auth_scope_catalog $cat $level;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            pit_auth on;
            pit_auth_scope "$scope" \$http_x_scope;
        }
    }
END
    };
    my $n = PitTest::Nginx->new(no_start => 1,
                                http => $conf->('error', 'locations.readonly'));
    my ($rc, $o1, $o2) = $n->test_conf;
    is($rc, 0, 'catalogue: known scopes pass nginx -t') or diag "$o1$o2";
    $n = PitTest::Nginx->new(no_start => 1, http =>
        $conf->('error', 'contacts.readonly|locations.reaonly'));
    ($rc, $o1, $o2) = $n->test_conf;
    isnt($rc, 0, 'catalogue (error): a typo fails nginx -t');
    like("$o1$o2", qr/\[emerg\].*pit_auth_scope "locations\.reaonly" is not in the scope catalogue in \S+nginx\.conf:\d+/,
         '... naming the term and the line');
    $n = PitTest::Nginx->new(no_start => 1, http =>
        $conf->('warn', 'locations.reaonly'));
    ($rc, $o1, $o2) = $n->test_conf;
    is($rc, 0, 'catalogue (warn): a typo passes nginx -t');
    like("$o1$o2", qr/\[warn\].*pit_auth_scope "locations\.reaonly" is not in the scope catalogue/,
         '... with a [warn]');
    $n = PitTest::Nginx->new(no_start => 1, http => <<'END');
    pit_auth_scope_catalog /nonexistent/catalog.json;
    server { listen 127.0.0.1:%%PORT%%; }
END
    ($rc, $o1, $o2) = $n->test_conf;
    isnt($rc, 0, 'catalogue: a missing file fails nginx -t');
    like("$o1$o2", qr/\[emerg\].*pit_auth_scope_catalog: .*nonexistent/,
         '... naming the file');
}

done_testing();
