namespace GradientDescent.Autodiff.Cli;

/// <summary>The process entry point: the console's writers and Ctrl+C, then <see cref="Gdad.RunAsync"/>.</summary>
internal static class Program
{
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
            return await Gdad.RunAsync(args, Console.Out, Console.Error, cancel.Token).ConfigureAwait(false);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
