namespace GradientDescent.Autodiff.Cli;

/// <summary>
/// Every exit code <c>gdad</c> returns, in one place. Scripts may rely on them: 0 and 2 as <c>diff</c> and
/// <c>grep</c> use them, 70 from BSD's sysexits (<c>EX_SOFTWARE</c>), 130 as shells report an interrupt (128 + SIGINT).
/// </summary>
public enum ExitCode
{
    /// <summary>The command did what was asked.</summary>
    Success = 0,

    /// <summary>A check ran and found a difference (as <c>diff</c> exits 1): <c>check</c>, when a derivative derived by hand disagrees with autodiff. <c>train</c> never returns it.</summary>
    Difference = 1,

    /// <summary>Bad arguments or bad data: an unknown option, a value out of range, a missing file, a CSV cell that is not a number. One line on stderr, no stack trace.</summary>
    BadInput = 2,

    /// <summary>Training met a NaN or infinite loss (usually a learning rate too large for the data); the message names the epoch, step and op.</summary>
    Diverged = 3,

    /// <summary>An unexpected exception: a bug in gdad or the library. The full exception goes to stderr; please report it.</summary>
    Bug = 70,

    /// <summary>Interrupted (Ctrl+C): training stopped after the step in flight; what was trained is still reported and saved.</summary>
    Interrupted = 130,
}

/// <summary>
/// A problem with the arguments or the data that the user can fix; becomes <see cref="ExitCode.BadInput"/> and one
/// line, optionally followed by <paramref name="detail"/> lines (a formula with a caret under the error).
/// </summary>
internal sealed class UsageException(string message, string? detail = null) : Exception(message)
{
    /// <summary>Lines written after the one-line message, or null.</summary>
    public string? Detail { get; } = detail;
}
