using System.Diagnostics;

namespace GradientDescent.Autodiff.Teaching;

/// <summary>
/// Renders a picture with Graphviz's <c>dot</c> program instead of <see cref="SvgWriter"/>, for those who have it
/// installed and prefer its layout (splines, larger graphs). <see cref="SvgWriter"/> needs nothing installed.
/// </summary>
public static class GraphvizRenderer
{
    /// <summary>Whether Graphviz's <c>dot</c> is on the PATH.</summary>
    public static bool IsAvailable => FindDot(Environment.GetEnvironmentVariable("PATH")) is not null;

    /// <summary>The SVG Graphviz draws for <paramref name="tape"/> (the DOT of <see cref="DotWriter"/>).</summary>
    /// <exception cref="InvalidOperationException"><c>dot</c> is not on the PATH, or failed.</exception>
    public static string RenderSvg(Tape tape, PictureOptions? options = null) => RenderSvg(DotWriter.Write(tape, options));

    /// <summary>Runs <c>dot -Tsvg</c> on <paramref name="dot"/> and returns the SVG it writes.</summary>
    /// <param name="dot">A graph in the DOT language.</param>
    /// <param name="timeout">How long dot may take (default 30 s); it is killed after that.</param>
    /// <exception cref="InvalidOperationException"><c>dot</c> is not on the PATH, failed, or took longer than <paramref name="timeout"/>.</exception>
    public static string RenderSvg(string dot, TimeSpan? timeout = null) =>
        RenderSvg(dot, timeout, Environment.GetEnvironmentVariable("PATH"));

    /// <summary><see cref="RenderSvg(string, TimeSpan?)"/> with <c>dot</c> looked up in <paramref name="searchPath"/> (tests).</summary>
    internal static string RenderSvg(string dot, TimeSpan? timeout, string? searchPath)
    {
        ArgumentNullException.ThrowIfNull(dot);
        string program = FindDot(searchPath) ?? throw new InvalidOperationException(
            "GraphvizRenderer: Graphviz's 'dot' is not on the PATH. Install Graphviz (apt-get install graphviz, brew install graphviz, winget install graphviz) " +
            "or draw with SvgWriter, which needs nothing installed.");
        var start = new ProcessStartInfo(program, "-Tsvg")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new System.Text.UTF8Encoding(false),
            StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"GraphvizRenderer: could not start {program}.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(dot);
        process.StandardInput.Close();
        TimeSpan limit = timeout ?? TimeSpan.FromSeconds(30);
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"GraphvizRenderer: {program} -Tsvg took longer than {limit.TotalSeconds} s and was stopped; draw a smaller graph, or use SvgWriter.");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"GraphvizRenderer: {program} -Tsvg exited with code {process.ExitCode}: {errors.Result.Trim()}");
        }
        return output.Result;
    }

    /// <summary>The full path of <c>dot</c> (<c>dot.exe</c> on Windows) in a directory of <paramref name="searchPath"/> (a PATH value), or null.</summary>
    internal static string? FindDot(string? searchPath)
    {
        string name = OperatingSystem.IsWindows() ? "dot.exe" : "dot";
        foreach (string dir in (searchPath ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir.Trim('"'), name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
