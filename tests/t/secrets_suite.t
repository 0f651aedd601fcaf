#!/usr/bin/perl
# Secret hygiene: runs the module's test suite again (module_*.t, cache_*.t,
# openapi_*.t, acl_*.t, fault_fake_redis.t) with every nginx at error_log
# ... debug, keeping every server directory and, when each Redis stops, an
# uncompressed SAVE and its audit stream; pitctl runs through a wrapper
# that records what it prints, which is where every token issued during
# the run appears.  Then every file left behind (error logs at every
# level, nginx's own debug lines included, access logs, stderr, Redis logs
# and dumps, audit entries) is searched for every one of those tokens:
# 0 occurrences.  nginx's own lines are masked by the module's log writer
# (ngx_http_pit_auth_log.c), the access log's request line by the module
# when the token came as ?access_token=.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use File::Find;
use Digest::SHA qw(sha256_hex);
use PitTest;
use PitModule;

my $top = PitTest::top();
my $keep = tempdir(CLEANUP => 1);
my $real = PitTest::Pitctl::bin();

open my $w, '>', "$keep/pitctl" or die;
print $w <<"END";
#!/bin/bash
set -o pipefail
'$real' "\$@" | tee -a '$keep/pitctl.out'
END
close $w;
chmod 0755, "$keep/pitctl";

my @suite = map { glob "$top/tests/t/$_" }
            qw(module_*.t cache_*.t openapi_*.t acl_*.t fault_fake_redis.t);
# Every file must run to its plan, without a failure, at debug level.
my ($n_tests, @failed, @broken) = (0);
for my $file (@suite) {
    my ($rc, $out, $err) = PitTest::run_cmd(['perl', $file], env => {
        PITCTL => "$keep/pitctl", PIT_LOG_LEVEL => 'debug',
        PIT_TEST_KEEP => $keep });
    my $name = $file =~ s{.*/}{}r;
    my ($plan) = $out =~ /^1\.\.(\d+)(?:\s+#\s*skip\b.*)?$/mi;   # skip_all: 1..0 # SKIP
    my @res = $out =~ /^(ok|not ok) \d+/mg;
    push @broken, "$name: ran " . scalar(@res) . ' of ' . ($plan // '?')
        unless defined $plan && @res == $plan;
    $n_tests += @res;
    push @failed, map { "$name: $_" } $out =~ /^not ok \d+ - (.*)$/mg;
}
is(join("\n", @broken), '', 'every file of the suite ran to its plan at '
   . 'debug level (' . scalar(@suite) . " files, $n_tests tests)");
is(join("\n", @failed), '', 'no failure at debug level');

# A scenario of our own: every kind of token use, then pitctl's audit.
my $t = PitModule->new(log_level => 'debug', server => <<'END');
        location /api/ {
            pit_auth on;
            pit_auth_scope contacts.readonly;
            proxy_pass %%UP%%;
        }
END
{
    local $ENV{PITCTL} = "$keep/pitctl";
    my ($id, $tok) = $t->token(account => 'acct1');
    is($t->bearer('/api/x', $tok)->{status}, 200, 'scenario: 200');
    is($t->get("/api/x?access_token=$tok")->{status}, 401,
       '?access_token= alone is never accepted');
    is($t->get("/api/x?access_token=$tok", Authorization => "Bearer $tok")
       ->{status}, 400, '?access_token= with a header: 400');
    my ($rc2, $o2) = $t->pitctl('--json', 'rotate', $id, '--later');
    my ($next) = $o2 =~ /"token"\s*:\s*"([^"]+)"/;
    is($t->bearer('/api/x', $next)->{status}, 200, 'scenario: next 200');
    $t->pitctl('expire-now', $id);
    $t->pitctl('check', $next);
    $t->pitctl('check', '-', { stdin => "$tok\n" });
    $t->pitctl('delete', $id);
    my ($rc3, $audit) = $t->pitctl('--json', 'audit');
    is($rc3, 0, 'pitctl audit');
    unlike($audit, qr/\Q$tok\E|\Q$next\E/, 'pitctl audit: no token');
    like($audit, qr/rotate-later/, 'pitctl audit shows the rotation');
}
$t->redis->stop;
$t->nginx->stop;
$t->nginx->{dir} =~ m{^\Q$keep\E} or system('cp', '-r', $t->nginx->dir,
                                              "$keep/scenario-nginx");

# --- the search ----------------------------------------------------------

my %tok = map { $_ => 1 }
          PitTest::slurp("$keep/pitctl.out")
          =~ /\b(pit-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/g;
my @tokens = sort keys %tok;
cmp_ok(scalar @tokens, '>=', 20, scalar(@tokens) . ' tokens issued');
my $re = join '|', map { quotemeta } @tokens;
$re = qr/$re/;
my %hash = map { sha256_hex($_) => 1 } @tokens;

my (@found, %lines, $n_files, $n_rdb, $n_audit, $hashes_in_dumps);
find({ no_chdir => 1, wanted => sub {
    my $f = $File::Find::name;
    return unless -f $f;
    return if $f eq "$keep/pitctl.out" || $f eq "$keep/pitctl";
    $n_files++;
    my $data = PitTest::slurp($f);
    $n_rdb++ if $f =~ /\.rdb$/;
    $n_audit++ if $f =~ /\.audit$/;
    if ($f =~ /\.rdb$/) {
        $hashes_in_dumps++ if grep { index($data, $_) >= 0 } keys %hash;
    }
    if ($f =~ m{/logs/error\.log$}) {
        $lines{error}++ while $data =~ /^\d{4}\/\d\d\/\d\d /mg;
        $lines{masked}++ while $data =~ /pit-[0-9a-f]{4}\*{4}-\*{4}-\*{4}-\*{4}-\*{8}/g;
    }
    return unless $data =~ $re;
    my $name = $f =~ s{^\Q$keep\E/}{}r;
    push @found, map { "$name: " . substr($_, 0, 200) }
                 grep { $_ =~ $re } split /\n/, $data;
}}, $keep);

cmp_ok($n_rdb, '>=', 5, "$n_rdb Redis dumps (SAVE) searched");
cmp_ok($n_audit, '>=', 5, "$n_audit audit streams searched");
ok($hashes_in_dumps, "the dumps hold token hashes ($hashes_in_dumps dumps)");
diag("searched $n_files files for " . scalar(@tokens) . " tokens, "
     . ($lines{error} // 0) . " error log lines");
cmp_ok($lines{masked} // 0, '>', 100, ($lines{masked} // 0)
       . ' tokens masked in the error logs (nginx did write them)');
is(scalar @found, 0, 'no token anywhere: error logs at every level '
   . '(nginx\'s own lines included), access logs, stderr, Redis logs and '
   . 'dumps, audit entries')
    or diag(join "\n", @found[0 .. ($#found < 20 ? $#found : 19)]);

done_testing();
