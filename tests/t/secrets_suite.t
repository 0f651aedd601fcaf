#!/usr/bin/perl
# Secret hygiene: runs the module's test suite again (module_*.t, cache_*.t,
# openapi_*.t, acl_*.t, fault_fake_redis.t) with every nginx at error_log
# ... debug, keeping every server directory and, when each Redis stops, an
# uncompressed SAVE and its audit stream; pitctl runs through a wrapper
# that records what it prints, which is where every token issued during
# the run appears.  Then every file left behind is searched for every one
# of those tokens.
#
#   - the module's own log lines at every level, every line at notice or
#     above, stderr, the Redis logs, the Redis dumps and pitctl's audit
#     entries: 0 occurrences (hard);
#   - lines that nginx itself writes at debug level (request headers,
#     proxied headers, variables) or info level (a duplicate header line,
#     verbatim) and the access log's request line with a query string:
#     counted and reported (a TODO test); nginx writes them before or
#     outside the module, which cannot reach them (README "Security").

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
# Every file must run to its plan.  The only failures allowed are the
# suite's own "no token in error.log" / "in the log" checks, which hold at info level (the
# default) and which nginx's own debug lines break: this test is their
# debug-level counterpart, and says exactly what nginx writes.
my ($n_tests, @failed, @broken, %excused) = (0);
for my $file (@suite) {
    my ($rc, $out, $err) = PitTest::run_cmd(['perl', $file], env => {
        PITCTL => "$keep/pitctl", PIT_LOG_LEVEL => 'debug',
        PIT_TEST_KEEP => $keep });
    my $name = $file =~ s{.*/}{}r;
    my ($plan) = $out =~ /^1\.\.(\d+)$/m;
    my @res = $out =~ /^(ok|not ok) \d+/mg;
    push @broken, "$name: ran " . scalar(@res) . ' of ' . ($plan // '?')
        unless defined $plan && @res == $plan;
    $n_tests += @res;
    for my $d ($out =~ /^not ok \d+ - (.*)$/mg) {
        if ($d =~ /token/ && $d =~ /\blog\b|error\.log/) {
            $excused{"$name: $d"} = 1;
        }
        else { push @failed, "$name: $d"; }
    }
}
is(join("\n", @broken), '', 'every file of the suite ran to its plan at '
   . 'debug level (' . scalar(@suite) . " files, $n_tests tests)");
is(join("\n", @failed), '', 'no other failure at debug level');
diag("at debug level, nginx's own lines fail: " . join('; ', sort keys %excused))
    if %excused;

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

my (@hard, %core, $n_files, $n_rdb, $n_audit, $hashes_in_dumps);
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
    return unless $data =~ $re;
    my $name = $f =~ s{^\Q$keep\E/}{}r;
    my $entry = '';      # error.log: the entry a continuation line is in
    for my $line (split /\n/, $data) {
        $entry = $line if $line =~ m{^\d{4}/\d\d/\d\d };
        next unless $line =~ $re;
        if ($f =~ m{/logs/error\.log$} && $entry !~ /pit_auth/
            && $entry =~ /\[(debug|info)\]/) {
            $core{"nginx core [$1]"}++;
        } elsif ($f =~ m{/logs/access\.log$}
                 && $line =~ /"[A-Z]+ [^"]*\?[^"]*access_token=/) {
            $core{'access log query string'}++;
        } else {
            push @hard, "$name: " . substr($line, 0, 200);
        }
    }
}}, $keep);

cmp_ok($n_rdb, '>=', 5, "$n_rdb Redis dumps (SAVE) searched");
cmp_ok($n_audit, '>=', 5, "$n_audit audit streams searched");
ok($hashes_in_dumps, "the dumps hold token hashes ($hashes_in_dumps dumps)");
diag("searched $n_files files for " . scalar(@tokens) . ' tokens');
is(scalar @hard, 0, 'no token in any module line, any line at notice or '
   . 'above, any dump, audit entry, Redis log or stderr')
    or diag(join "\n", @hard[0 .. ($#hard < 20 ? $#hard : 19)]);
diag(sprintf('lines written by nginx itself: %s',
             join(', ', map { "$_: $core{$_}" } sort keys %core) || 'none'));
TODO: {
    local $TODO = 'nginx itself logs request headers at debug level, a '
        . 'duplicate header at info, and the access log keeps query '
        . 'strings (README "Security")';
    is(scalar(keys %core), 0, 'no token anywhere at all, nginx included');
}

done_testing();
