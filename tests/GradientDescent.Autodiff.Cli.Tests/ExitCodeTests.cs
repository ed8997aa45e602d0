using static GradientDescent.Autodiff.Cli.Tests.CliRunner;

namespace GradientDescent.Autodiff.Cli.Tests;

public sealed class ExitCodeTests
{
    [Fact]
    public void ExitCode_Values_AreTheDocumentedNumbers()
    {
        Assert.Equal(0, (int)ExitCode.Success);
        Assert.Equal(1, (int)ExitCode.Difference);
        Assert.Equal(2, (int)ExitCode.BadInput);
        Assert.Equal(3, (int)ExitCode.Diverged);
        Assert.Equal(70, (int)ExitCode.Bug);
        Assert.Equal(130, (int)ExitCode.Interrupted);
    }

    [Theory]
    [InlineData("train", "--epochs", "0")]
    [InlineData("train", "--lr", "-1")]
    [InlineData("train", "--lr", "abc")]
    [InlineData("train", "--model", "forest")]
    [InlineData("train", "--optimizer", "lbfgs")]
    [InlineData("train", "--hidden", "16,x")]
    [InlineData("train", "--test-fraction", "1")]
    [InlineData("train", "--no-such-option")]
    [InlineData("train", "--target", "y")]          // columns need --data
    [InlineData("train", "--model", "linear", "--task", "classification")]   // --task is for mlp only
    [InlineData("train", "--model", "softmax", "--task", "regression")]
    [InlineData("train", "--model", "mlp", "--task", "sideways")]
    [InlineData("frobnicate")]
    [InlineData]
    public void Run_BadArguments_Exit2WithOneLineOnStderrAndNothingOnStdout(params string[] args)
    {
        var r = Run(args);
        Assert.Equal(2, r.Code);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("gdad: ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_MissingFile_Exit2NamingTheFile()
    {
        var r = Run("train", "--data", "/no/such/dir/data.csv", "--json");
        Assert.Equal(2, r.Code);
        Assert.Equal("", r.Stdout);
        Assert.Equal("gdad: --data: no file '/no/such/dir/data.csv'.\n", r.Stderr.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Run_EmptyCell_Exit2WithTheReadersMessageNamingFileLineAndColumn()
    {
        string path = WriteTemp("bad.csv", "a,b,y\n1,2,0\n3,,1\n");
        var r = Run("train", "--data", path, "--json");
        Assert.Equal(2, r.Code);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("bad.csv, line 3, column 2 ('b')", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--target", "nope")]                       // unknown column name
    [InlineData("--target", "y")]                          // logistic needs a 0/1 target; y is a real number
    [InlineData("--features", "a,zzz")]
    public void Run_BadColumnChoice_Exit2OneLine(string option, string value)
    {
        var r = Run("train", "--data", SmallCsv(), option, value);
        Assert.Equal(2, r.Code);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Diverging_Exit3WithTheTrainersMessage()
    {
        // Plain gradient descent on raw features with η = 1000 overshoots further each step until the loss is ∞/NaN.
        var r = Run("train", "--data", SmallCsv(), "--target", "y", "--features", "a,b", "--model", "linear", "--optimizer", "sgd", "--lr", "1000", "--json");
        Assert.Equal(3, r.Code);
        Assert.Equal("", r.Stdout);
        Assert.Contains("Trainer: the loss is", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("train", "--help")]
    public void Run_Help_Exit0WithExamples(params string[] args)
    {
        var r = Run(args);
        Assert.Equal(0, r.Code);
        Assert.Contains("Examples:", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("gdad train", r.Stdout, StringComparison.Ordinal);
    }
}
