using Spectre.Console;

namespace GradientDescent.Autodiff.Cli;

/// <summary>The process entry point: the console's writers and Ctrl+C, then <see cref="Gdad.RunAsync"/>.</summary>
internal static class Program
{
    /// <summary>A console for live progress bars when both streams reach an interactive terminal; null when redirected (then plain lines).</summary>
    private static IAnsiConsole? LiveConsole()
    {
        if (Console.IsOutputRedirected || Console.IsErrorRedirected) return null;
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        return console.Profile.Capabilities.Interactive ? console : null;
    }

    private static async Task<int> Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        // Ctrl+C: keep the process alive, let the trainer finish the step in flight, then report and save.
        // A second Ctrl+C ends the process as usual.
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (cancel.IsCancellationRequested) return;
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await Gdad.RunAsync(args, Console.Out, Console.Error, cancel.Token, LiveConsole()).ConfigureAwait(false);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
