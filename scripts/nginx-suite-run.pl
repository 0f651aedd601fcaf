#!/usr/bin/perl
# One run of nginx-tests, for scripts/nginx-suite.sh:
#
#   perl nginx-suite-run.pl SUITE_DIR RESULTS_FILE [JOBS [FILE...]]
#
# Runs every *.t of SUITE_DIR (or only the FILEs given) (nginx-tests, unpacked) with TAP::Harness
# (core Perl), JOBS at a time (default 4), from SUITE_DIR, with the
# TEST_NGINX_* variables of the environment; writes one line per file and
# one per test to RESULTS_FILE, sorted, tab-separated:
#
#   FILE <tab> plan  <tab> PLANNED <tab> RUN <tab> SKIP_ALL-or-- <tab> EXIT
#   FILE <tab> NUM   <tab> ok|not ok|skip|todo|todo passed
#
# so that two runs compare with diff.  Test descriptions are left out: some
# name ports or paths chosen at run time.  Prints a one-line summary.
use strict;
use warnings;
use TAP::Harness;

my ($dir, $outfile, $jobs, @only) = @ARGV;
die "usage: $0 SUITE_DIR RESULTS_FILE [JOBS]\n" unless $dir && $outfile;
$jobs ||= 4;

chdir $dir or die "chdir $dir: $!\n";
opendir my $dh, '.' or die;
my @files = sort grep { /\.t$/ && -f } readdir $dh;
closedir $dh;
if (@only) {
    my %want = map { $_ => 1 } @only;
    @files = grep { $want{$_} } @files;
}

my (%tests, %plan);
my $harness = TAP::Harness->new({
    jobs      => $jobs,
    verbosity => -3,
    lib       => ['lib'],
});
$harness->callback(after_test => sub {
    my ($job, $parser) = @_;
    my $file = $job->[0];
    $plan{$file} = join "\t", $parser->tests_planned // '-',
        $parser->tests_run, ($parser->skip_all ? 'skip_all' : '-'),
        ($parser->exit // 0) . '/' . ($parser->wait // 0);
});
$harness->callback(made_parser => sub {
    my ($parser, $job) = @_;
    my $file = $job->[0];
    $parser->callback(test => sub {
        my ($r) = @_;
        my $s = $r->has_todo ? ($r->is_actual_ok ? 'todo passed' : 'todo')
              : $r->has_skip ? 'skip'
              : $r->is_ok    ? 'ok' : 'not ok';
        $tests{$file}{$r->number} = $s;
    });
});

my $agg = $harness->runtests(@files);

open my $out, '>', $outfile or die "$outfile: $!\n";
my ($nfiles, $ntests, @failed) = (0, 0);
for my $f (sort keys %plan) {
    $nfiles++;
    print $out "$f\tplan\t$plan{$f}\n";
    for my $n (sort { $a <=> $b } keys %{ $tests{$f} // {} }) {
        $ntests++;
        print $out "$f\t$n\t$tests{$f}{$n}\n";
    }
}
for my $f (sort $agg->descriptions) {
    my ($p) = $agg->parsers($f);
    push @failed, $f if $p->has_problems;
}
close $out;
printf "files %d, tests %d, failing files %d%s\n", $nfiles, $ntests,
    scalar @failed, @failed ? ": @failed" : '';
exit 0;
