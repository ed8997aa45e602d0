using GradientDescent.Autodiff.Testing;
using Run = GradientDescent.Autodiff.Testing.ChildProcess.Result;
using System.Diagnostics;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json;

namespace GradientDescent.Autodiff.Notebooks.Tests;

/// <summary>
/// Runs examples/Backprop.dib headlessly with dotnet-repl, the repository's local tool (.config/dotnet-tools.json,
/// restored here by <c>dotnet tool restore</c>), saves its outputs as .ipynb and reads them back.
/// </summary>
public sealed class BackpropNotebookTests
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public void Run_BackpropNotebook_EveryCellRunsAndShowsMicrogradsNumbersTheGraphTheTraceAndThePassedCheck()
    {
        string root = ChildProcess.RepositoryRoot();
        AssertNotebookLoadsThisBuild(root);
        string folder = Directory.CreateTempSubdirectory("backprop-notebook-").FullName;
        try
        {
            string saved = Path.Combine(folder, "Backprop.ipynb");

            Run restore = RunDotnet(["tool", "restore"], root);
            Assert.True(restore.ExitCode == 0, $"dotnet tool restore exited {restore.ExitCode}:\n{restore.Output}\n{restore.Error}");
            // The notebook's #r paths are relative to its folder, as in VS Code's Polyglot Notebooks.
            Run run = RunDotnet(
                ["tool", "run", "dotnet-repl", "--", "--run", "Backprop.dib", "--exit-after-run", "--output-format", "ipynb", "--output-path", saved],
                Path.Combine(root, "examples"));
            // dotnet-repl exits 2 when a cell fails, 0 when every cell ran.
            Assert.True(run.ExitCode == 0, $"dotnet-repl exited {run.ExitCode}:\n{run.Output}\n{run.Error}\n{(File.Exists(saved) ? File.ReadAllText(saved) : "(no notebook saved)")}");

            Output[] outputs = ReadOutputs(saved);
            Assert.DoesNotContain(outputs, o => o.Type == "error");
            string Text(string mime) => string.Join("\n", outputs.Where(o => o.Mime == mime).Select(o => o.Text));

            // micrograd's README: g = 24.7041, ∂g/∂a = 138.8338, ∂g/∂b = 645.5773 (to 4 decimals).
            Assert.Contains("g = 24.7041", Text("text/plain"), StringComparison.Ordinal);
            Assert.Contains("∂g/∂a = 138.8338, ∂g/∂b = 645.5773", Text("text/plain"), StringComparison.Ordinal);
            // The tape, rendered by the registered formatter (text/html), with the parameters' gradients.
            string html = Text("text/html");
            // The graph as inline SVG (the picture SvgWriter draws): 29 boxes, a and b as parameters with their gradients.
            string svg = html[html.IndexOf("<svg xmlns=", StringComparison.Ordinal)..];
            svg = svg[..(svg.IndexOf("</svg>", StringComparison.Ordinal) + "</svg>".Length)];
            Assert.Equal(29, svg.Split("<g id=\"node-").Length - 1);
            Assert.Contains("<g id=\"node-0\" class=\"node parameter\">", svg, StringComparison.Ordinal);
            Assert.Contains("138.834", svg, StringComparison.Ordinal);
            Assert.Contains("645.577", svg, StringComparison.Ordinal);
            // The backward trace: its step table, ending with the parameters' steps.
            Assert.Contains("<pre class=\"gdad-trace\">Backward pass from %28 g = Add(%25, %27), L = 24.7041", html, StringComparison.Ordinal);
            Assert.Contains("∂L/∂a is added into a.Grad", html, StringComparison.Ordinal);
            // The gradient check against central differences, as a table that passed.
            Assert.Contains("<table class=\"gdad-gradient-check\">", html, StringComparison.Ordinal);
            Assert.Contains("<b>PASSED</b>", html, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>One output of a saved cell: its type (display_data, execute_result, error, stream), a mime type, the text.</summary>
    private sealed record Output(string Type, string? Mime, string Text);

    private static Output[] ReadOutputs(string ipynb)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(ipynb));
        var outputs = new List<Output>();
        foreach (JsonElement cell in document.RootElement.GetProperty("cells").EnumerateArray())
        {
            if (!cell.TryGetProperty("outputs", out JsonElement cellOutputs)) continue;
            foreach (JsonElement output in cellOutputs.EnumerateArray())
            {
                string type = output.GetProperty("output_type").GetString()!;
                if (type == "error")
                {
                    outputs.Add(new Output(type, null, $"{output.GetProperty("ename")}: {output.GetProperty("evalue")}"));
                }
                else if (output.TryGetProperty("data", out JsonElement data))
                {
                    foreach (JsonProperty mime in data.EnumerateObject()) outputs.Add(new Output(type, mime.Name, Join(mime.Value)));
                }
                else if (output.TryGetProperty("text", out JsonElement text))
                {
                    outputs.Add(new Output(type, "text/plain", Join(text)));
                }
            }
        }
        return [.. outputs];

        // Jupyter stores multi-line text as an array of lines.
        static string Join(JsonElement text) => text.ValueKind == JsonValueKind.Array
            ? string.Concat(text.EnumerateArray().Select(line => line.GetString()))
            : text.GetString() ?? "";
    }

    /// <summary>
    /// The notebook loads src/GradientDescent.Autodiff.Notebooks/bin/Release/net10.0 (a path a reader can type); the
    /// test checks it is the very build this test runs against, so a stale or missing Release build cannot pass.
    /// </summary>
    private static void AssertNotebookLoadsThisBuild(string root)
    {
        string loaded = Path.Combine(root, "src", "GradientDescent.Autodiff.Notebooks", "bin", "Release", "net10.0", "GradientDescent.Autodiff.Notebooks.dll");
        Guid expected = typeof(NotebookFormatters).Assembly.ManifestModule.ModuleVersionId;
        Assert.True(File.Exists(loaded), $"{loaded} is missing: the notebook loads the Release build; run the tests with -c Release (as CI does).");
        using var reader = new PEReader(File.OpenRead(loaded));
        MetadataReader metadata = reader.GetMetadataReader();
        Guid actual = metadata.GetGuid(metadata.GetModuleDefinition().Mvid);
        Assert.True(expected == actual, $"{loaded} is not the build under test: run the tests with -c Release (as CI does).");
    }

    private static Run RunDotnet(IEnumerable<string> arguments, string directory) =>
        // The dotnet that runs this test (set by dotnet test), else the one on the PATH.
        ChildProcess.Run(
            Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet",
            arguments, directory, ProcessTimeout,
            new Dictionary<string, string> { ["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1" });
}
