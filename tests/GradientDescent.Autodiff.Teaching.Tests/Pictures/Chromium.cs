using System.Diagnostics;

namespace GradientDescent.Autodiff.Teaching.Tests.Pictures;

/// <summary>Headless Chromium for the browser checks of the HTML page: a screenshot, and the DOM after the page's script ran.</summary>
internal static class Chromium
{
    private static readonly string[] Names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

    /// <summary>The browser on the PATH; fails the test with what to install when there is none.</summary>
    public static string Find()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string name in Names)
            {
                string candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        }
        Assert.Fail("headless Chromium is needed for the HTML page's browser test and is not on the PATH; install it: apt-get install -y chromium (.ci/run does this in CI).");
        return "";
    }

    /// <summary>Takes a <paramref name="width"/> × <paramref name="height"/> screenshot of <paramref name="url"/> into <paramref name="png"/>.</summary>
    public static void Screenshot(string url, string png, int width, int height) =>
        Run($"--screenshot={png} --window-size={width},{height} --hide-scrollbars {url}");

    /// <summary>The DOM of <paramref name="url"/> after its scripts ran.</summary>
    public static string DumpDom(string url) => Run($"--dump-dom {url}");

    private static string Run(string arguments)
    {
        string program = Find();
        string profile = Directory.CreateTempSubdirectory("gdad-chromium-").FullName;
        try
        {
            var start = new ProcessStartInfo(program,
                $"--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking --no-first-run --disable-extensions --user-data-dir={profile} {arguments}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(start)!;
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"chromium {arguments} did not finish within 90 s");
            }
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"chromium {arguments} exited with {process.ExitCode}: {errors.Result}");
            return output.Result;
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
