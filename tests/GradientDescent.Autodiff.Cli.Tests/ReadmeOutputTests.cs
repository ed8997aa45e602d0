using static GradientDescent.Autodiff.Cli.Tests.CliRunner;

namespace GradientDescent.Autodiff.Cli.Tests;

public sealed class ReadmeOutputTests
{
    [Fact]
    public void Train_Defaults_PrintWhatTheReadmeShowsUnderTwoCommands()
    {
        // Training is deterministic (seeded initialisation and shuffles), so every line but the timing is pinned by the README.
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md")).ReplaceLineEndings("\n");
        int section = readme.IndexOf("## Two commands", StringComparison.Ordinal);
        int start = readme.IndexOf("```\ngdad train:", section, StringComparison.Ordinal) + 4;
        int end = readme.IndexOf("```", start, StringComparison.Ordinal);
        string[] expected = readme[start..end].Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var r = Run("train");
        Assert.Equal(0, r.Code);
        string[] actual = r.Stdout.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expected[..^1], actual[..^1]);
        Assert.StartsWith("200 epochs, 200 steps in ", actual[^1], StringComparison.Ordinal);
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GradientDescent.Autodiff.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No GradientDescent.Autodiff.sln above {AppContext.BaseDirectory}.");
    }
}
