using System.Diagnostics;
using System.Text;

namespace GradientDescent.Autodiff.Testing;

/// <summary>
/// Runs a program as a child process for the tests that build or run something the way a user would (a user's
/// project, a notebook), and finds the repository. One copy for every test project that needs it.
/// </summary>
public static class ChildProcess
{
    /// <summary>What the process did: its exit code and everything it wrote.</summary>
    public sealed record Result(int ExitCode, string Output, string Error);

    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="arguments"/> in <paramref name="directory"/>, without the
    /// outer <c>dotnet test</c>'s MSBuild variables (a user's shell has none) and with .NET's telemetry and logo off,
    /// plus <paramref name="environment"/>; kills it with its children after <paramref name="timeout"/>.
    /// </summary>
    public static Result Run(string file, IEnumerable<string> arguments, string directory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        using var process = new Process { StartInfo = start };
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {timeout}.\n{output}\n{error}");
        }
        process.WaitForExit(); // drains the output
        lock (output)
        lock (error)
        {
            return new Result(process.ExitCode, output.ToString(), error.ToString());
        }
    }

    /// <summary>The folder holding GradientDescent.Autodiff.sln, above the test's output folder.</summary>
    public static string RepositoryRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "GradientDescent.Autodiff.sln"))) return d.FullName;
        }
        throw new InvalidOperationException($"No GradientDescent.Autodiff.sln above {AppContext.BaseDirectory}.");
    }
}
