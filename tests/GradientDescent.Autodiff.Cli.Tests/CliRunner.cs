using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GradientDescent.Autodiff.Cli.Tests;

/// <summary>Runs gdad in-process with string writers, and writes small CSV files to a temporary folder.</summary>
internal static class CliRunner
{
    internal sealed record Outcome(int Code, string Stdout, string Stderr)
    {
        /// <summary>stdout as one JSON object; JsonDocument.Parse rejects anything after it, so this also checks "nothing else".</summary>
        public JsonElement Json()
        {
            using var doc = JsonDocument.Parse(Stdout);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            return doc.RootElement.Clone();
        }
    }

    public static Outcome Run(params string[] args) => Run(CancellationToken.None, args);

    public static Outcome Run(CancellationToken cancellationToken, params string[] args)
    {
        var stdout = new StringWriter(CultureInfo.InvariantCulture);
        var stderr = new StringWriter(CultureInfo.InvariantCulture);
        int code = Gdad.RunAsync(args, stdout, stderr, cancellationToken).GetAwaiter().GetResult();
        return new Outcome(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Writes <paramref name="text"/> to a new file in a fresh temporary folder and returns its path.</summary>
    public static string WriteTemp(string name, string text)
    {
        string dir = Path.Combine(Path.GetTempPath(), "gdad-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, text, Encoding.UTF8);
        return path;
    }

    /// <summary>
    /// 60 rows with header a,b,y,binary,three,noise: a and b on a deterministic grid-like spread, y = 3 + 2a − 0.5b plus a
    /// small deterministic wobble, binary = [a + b > 0], three = 0/1/2 by the sign pattern of a and b; noise is unused.
    /// </summary>
    public static string SmallCsv()
    {
        var sb = new StringBuilder("a,b,y,binary,three,noise\n");
        for (int i = 0; i < 60; i++)
        {
            double a = Math.Round(Math.Sin(1.3 * i) * 3, 4);
            double b = Math.Round(Math.Cos(0.7 * i + 0.4) * 8, 4);
            double y = 3 + 2 * a - 0.5 * b + 0.1 * Math.Sin(5.1 * i);
            int binary = a + b / 4 > 0 ? 1 : 0;
            int three = a < -1 ? 0 : a < 1 ? 1 : 2;
            sb.Append(CultureInfo.InvariantCulture, $"{a},{b},{y:R},{binary},{three},{i % 7}\n");
        }
        return WriteTemp("small.csv", sb.ToString());
    }
}
