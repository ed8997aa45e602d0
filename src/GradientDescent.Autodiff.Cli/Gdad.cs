using System.CommandLine;
using Spectre.Console;
using GradientDescent.Autodiff.Datasets;
using GradientDescent.Autodiff.Models;

namespace GradientDescent.Autodiff.Cli;

/// <summary>
/// The <c>gdad</c> command tree and the one place where outcomes become <see cref="ExitCode"/>s. Parsing is apart
/// from running: a parse error is one line on stderr and <see cref="ExitCode.BadInput"/>, never System.CommandLine's
/// default 1; the commands' own errors are mapped in <see cref="RunAsync"/>.
/// </summary>
public static class Gdad
{
    /// <summary>The root command with its subcommands, each writing to <paramref name="stdout"/> (results) and <paramref name="stderr"/> (problems).</summary>
    internal static RootCommand BuildRoot(TextWriter stdout, TextWriter stderr, IAnsiConsole? live = null)
    {
        var root = new RootCommand(
            "gdad: train GradientDescent.Autodiff's ready models on a CSV file; differentiate a formula typed as text and check derivatives derived by hand.\n\n" +
            "Examples:\n" +
            "  gdad train                                   logistic regression on the embedded admissions data\n" +
            "  gdad train --data houses.csv --target price --model linear --standardize --json\n" +
            "  gdad train --save model.json                 ... and keep the model\n" +
            "  gdad predict --model-file model.json --data new.csv\n" +
            "  gdad explain                                 the seed's logistic regression, step by step, as one HTML page\n" +
            "  gdad grad \"x^2*y + sin(x)\" --at x=1,y=2      value and every partial derivative\n" +
            "  gdad grad \"a*b + a\" --at a=2,b=-3 --trace    ... and the chain rule, step by step\n" +
            "  gdad check \"sigmoid(x)\" --hand \"x=sigmoid(x)*(1-sigmoid(x))\"   your derivative against autodiff at 20 random points\n" +
            "  gdad train --help                            every training option (likewise grad --help, check --help)\n\n" +
            "Exit codes: 0 success, 1 check found a derivative that differs, 2 bad arguments, data or formula, 3 training diverged, 70 a bug in gdad, 130 interrupted.");
        root.Subcommands.Add(TrainCommand.Build(stdout, stderr, live));
        root.Subcommands.Add(PredictCommand.Build(stdout));
        root.Subcommands.Add(ExplainCommand.Build(stdout));
        root.Subcommands.Add(GradCommand.Build(stdout));
        root.Subcommands.Add(CheckCommand.Build(stdout));
        return root;
    }

    /// <summary>
    /// Parses <paramref name="args"/>, runs the command and returns its exit code. Nothing is written to the console
    /// except through the two writers (and <paramref name="live"/>); <paramref name="cancellationToken"/> is Ctrl+C.
    /// </summary>
    /// <param name="live">An interactive console for live progress bars, or null for plain lines (redirected output, tests).</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default, IAnsiConsole? live = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            RootCommand root = BuildRoot(stdout, stderr, live);
            ParseResult parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                string command = parsed.CommandResult.Command == root ? "gdad" : $"gdad {parsed.CommandResult.Command.Name}";
                await stderr.WriteLineAsync($"gdad: {OneLine(parsed.Errors[0].Message)} (see '{command} --help')").ConfigureAwait(false);
                return (int)ExitCode.BadInput;
            }
            var configuration = new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,   // Program handles Ctrl+C and passes the token
            };
            return await parsed.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is UsageException or DataFormatException or FileNotFoundException
            or DirectoryNotFoundException or UnauthorizedAccessException or ParameterMismatchException)
        {
            await stderr.WriteLineAsync($"gdad: {OneLine(e.Message)}").ConfigureAwait(false);
            if (e is UsageException { Detail: { } detail }) await stderr.WriteLineAsync(detail).ConfigureAwait(false);
            return (int)ExitCode.BadInput;
        }
        catch (TrainingDivergedException e)
        {
            await stderr.WriteLineAsync($"gdad: {OneLine(e.Message)}").ConfigureAwait(false);
            return (int)ExitCode.Diverged;
        }
        catch (Exception e)
        {
            await stderr.WriteLineAsync($"gdad: an unexpected error, a bug in gdad or the library (exit code {(int)ExitCode.Bug}); please report it with this text:").ConfigureAwait(false);
            await stderr.WriteLineAsync(e.ToString()).ConfigureAwait(false);
            return (int)ExitCode.Bug;
        }
    }

    /// <summary>The message on one line: line breaks and tabs become single spaces.</summary>
    internal static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));
}
