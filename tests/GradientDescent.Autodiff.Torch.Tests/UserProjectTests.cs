using GradientDescent.Autodiff.Testing;
using Run = GradientDescent.Autodiff.Testing.ChildProcess.Result;
using System.Diagnostics;
using System.Reflection;
using System.Text;
using GradientDescent.Build;
using Xunit;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// A user's own console project, outside this repository (no Directory.Build.props, no build/TorchSharpGlibcxxFix.targets),
/// that references the bridge — once as a ProjectReference to src/GradientDescent.Autodiff.Torch, once as a
/// PackageReference to the packed packages in a local folder — builds, runs a real cross-check and prints its report.
/// On this Debian 12 machine that works only through the bridge's run-time fallback (<see cref="TorchNativeLoader"/>):
/// the output's libLibTorchSharp.so keeps its strong GLIBCXX_3.4.32 requirement, which the tests check.
/// </summary>
/// <remarks>
/// Restores offline: the user folder's nuget.config lists only the packed packages and the machine's global package
/// folder (which is also a package source in NuGet's hierarchical layout), with that folder as a fallback folder, so
/// TorchSharp's 1.4 GB are neither downloaded nor extracted again, and the test packages (with a version unique to the
/// run) land in the temporary folder, not in the machine's cache.
/// </remarks>
public sealed class UserProjectTests : IClassFixture<UserProjectTests.Projects>
{
    private const string ShimFile = "libLibTorchSharp.so";

    // The README's cross-check (seed lesson, one admissions point, label 1), with the seed's hand formula
    // ∇E = −(y − ŷ)(x, 1) as the third opinion. Expected: L = −ln σ(0.3·0.78051 − 0.1·(−0.063669) + 0.2) = 0.4969508164…
    private const string Program = """
        using GradientDescent.Autodiff;
        using GradientDescent.Autodiff.Torch;

        var w = new VectorParameter("w", 0.3, -0.1);
        var b = new ScalarParameter("b", 0.2);
        double[] x = [0.78051, -0.063669];
        double y = 1;

        var report = TorchCrossCheck.Run(
            tape => Loss.BinaryCrossEntropy(Ops.Sigmoid(Ops.Dot(tape.Use(w), tape.Constant(x)) + tape.Use(b)), y),
            [w, b],
            new TorchCrossCheckOptions
            {
                HandDerived = p =>
                {
                    double yHat = 1 / (1 + Math.Exp(-(w.Value[0] * x[0] + w.Value[1] * x[1] + b.Value)));
                    return p == w ? [-(y - yHat) * x[0], -(y - yHat) * x[1]] : [-(y - yHat)];
                },
            });
        Console.WriteLine(report);
        return report.Passed ? 0 : 1;
        """;

    private readonly Projects projects;

    public UserProjectTests(Projects projects) => this.projects = projects;

    [Fact]
    public void UserProject_ProjectReferenceToTheBridge_BuildsAndRunsTheCrossCheck()
    {
        AssertCrossCheckRan(projects.ProjectReference);
    }

    [Fact]
    public void UserProject_PackageReferenceToThePackedBridge_BuildsAndRunsTheCrossCheck()
    {
        AssertCrossCheckRan(projects.PackageReference);
    }

    [Fact]
    public void UserProject_BrokenLibtorchCpu_FailsWithTheDynamicLoadersReasonInOneLine()
    {
        // A copy of the ProjectReference app's output (hard links: no bytes copied) whose libtorch_cpu.so is 16 bytes of
        // garbage: the app must stop with the loader's "file too short" for that file, not TorchSharp's text.
        if (!OperatingSystem.IsLinux())
        {
            return; // libtorch_cpu.so and dlopen's wording are Linux's.
        }

        BuiltApp app = projects.ProjectReference;
        string broken = Path.Combine(projects.Root, "broken");
        HardLinkTree(app.OutputFolder, broken);
        string[] cpu = Directory.GetFiles(broken, "libtorch_cpu.so", SearchOption.AllDirectories);
        Assert.NotEmpty(cpu);
        foreach (string file in cpu)
        {
            File.Delete(file); // removes the link only; the original output keeps its file
            File.WriteAllBytes(file, Encoding.ASCII.GetBytes("not a library\n\0\0"));
        }

        Run run = Projects.RunProcess("dotnet", [Path.Combine(broken, Path.GetFileName(app.Dll))], broken);

        Assert.NotEqual(0, run.ExitCode);
        string[] lines = run.Error.Split('\n');
        int first = Array.FindIndex(lines, l => l.StartsWith("Unhandled exception.", StringComparison.Ordinal));
        Assert.True(first >= 0, $"no unhandled exception in stderr:\n{run.Error}");
        string message = lines[first];
        Assert.Contains("System.InvalidOperationException: TorchSharp cannot load libtorch: dlopen: ", message, StringComparison.Ordinal);
        Assert.Contains(cpu[0], message, StringComparison.Ordinal);
        Assert.Contains("file too short", message, StringComparison.Ordinal);
        Assert.DoesNotContain("doesn't contain a reference", run.Error, StringComparison.Ordinal);
        Assert.StartsWith("   at ", lines[first + 1], StringComparison.Ordinal); // the message is one line; the stack follows
    }

    private static void AssertCrossCheckRan(BuiltApp app)
    {
        Run run = Projects.RunProcess("dotnet", [app.Dll], app.OutputFolder);

        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}\nstdout:\n{run.Output}\nstderr:\n{run.Error}");
        Assert.Contains("TorchSharp cross-check of L = 0.4969508164 (libtorch 0.4969508164); 8 nodes, 2 parameters", run.Output, StringComparison.Ordinal);
        Assert.Contains("w                [2]         hand-derived  ", run.Output, StringComparison.Ordinal);
        Assert.Contains("PASSED", run.Output, StringComparison.Ordinal);

        // On a system whose libstdc++ lacks GLIBCXX_3.4.32 the output's shim is untouched (strong), so the run above
        // loaded it through the bridge's run-time fallback; elsewhere it loads as it is.
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        string shim = Assert.Single(Directory.GetFiles(app.OutputFolder, ShimFile, SearchOption.AllDirectories));
        ElfVersionRequirement? requirement = ElfVersionPatcher.FindRequirement(File.ReadAllBytes(shim), "libstdc++.so.6", "GLIBCXX_3.4.32");
        Assert.True(requirement is { IsWeak: false }, $"{shim}: the user's output should carry TorchSharp's shim unchanged.");
    }

    private static void HardLinkTree(string source, string destination)
    {
        foreach (string directory in Directory.GetDirectories(source, "*", SearchOption.AllDirectories).Prepend(source))
        {
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, directory)));
        }

        foreach (string file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            string link = Path.Combine(destination, Path.GetRelativePath(source, file));
            if (Link(file, link) != 0)
            {
                File.Copy(file, link); // another file system: copy instead
            }
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
#pragma warning disable SYSLIB1054 // A one-off test helper; a source-generated LibraryImport would need unsafe code enabled.
    private static extern int Link(string existing, string created);
#pragma warning restore SYSLIB1054

    /// <summary>A built user app: its main assembly and output folder.</summary>
    public sealed record BuiltApp(string Dll, string OutputFolder);

    /// <summary>The result of a finished process.</summary>

    /// <summary>Builds the two user projects once per test run, in a temporary folder it deletes afterwards.</summary>
    public sealed class Projects : IDisposable
    {
        private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(4);
        private readonly Task<BuiltApp> projectReference;
        private readonly Task<BuiltApp> packageReference;

        public Projects()
        {
            Root = Directory.CreateTempSubdirectory("gdad-user-project-").FullName;
            Repository = ChildProcess.RepositoryRoot();
            Configuration = typeof(Projects).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "Configuration").Value!;

            // Both builds at once: each is mostly a cold compiler start and MSBuild evaluation, so they overlap well.
            projectReference = Task.Run(BuildWithProjectReference);
            packageReference = Task.Run(BuildWithPackageReference);
        }

        /// <summary>The temporary folder holding everything.</summary>
        public string Root { get; }

        public string Repository { get; }

        /// <summary>The configuration this test assembly was built in; the repository's projects are up to date in it.</summary>
        public string Configuration { get; }

        /// <summary>The app that references src/GradientDescent.Autodiff.Torch as a ProjectReference.</summary>
        public BuiltApp ProjectReference => projectReference.GetAwaiter().GetResult();

        /// <summary>The app that references the packed GradientDescent.Autodiff.Torch as a PackageReference.</summary>
        public BuiltApp PackageReference => packageReference.GetAwaiter().GetResult();

        private static string MachinePackages =>
            Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages
                ? packages
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

        public void Dispose()
        {
            try
            {
                Task.WaitAll(projectReference, packageReference);
            }
            catch (AggregateException)
            {
                // A failed build has already failed its tests.
            }

            Directory.Delete(Root, recursive: true);
        }

        public static Run RunProcess(string file, IEnumerable<string> arguments, string directory) =>
            ChildProcess.Run(file, arguments, directory, ProcessTimeout);

        private BuiltApp BuildWithProjectReference()
        {
            string bridge = Path.Combine(Repository, "src", "GradientDescent.Autodiff.Torch", "GradientDescent.Autodiff.Torch.csproj");
            return Build("ProjectReferenceApp", $"""<ProjectReference Include="{bridge}" />""", extraSource: null);
        }

        private BuiltApp BuildWithPackageReference()
        {
            // A version unique to this run, so no package of an earlier run can be picked up from any cache.
            string version = "1.0.0-usercheck." + Guid.NewGuid().ToString("N")[..12];
            string feed = Path.Combine(Root, "feed");
            foreach (string project in new[] { "GradientDescent.Autodiff", "GradientDescent.Autodiff.Torch" })
            {
                Check(RunProcess(
                    "dotnet",
                    ["pack", Path.Combine(Repository, "src", project, project + ".csproj"), "-c", Configuration, "--no-build",
                     "-o", feed, $"-p:Version={version}", "--nologo"],
                    Root), $"dotnet pack {project}");
            }

            return Build("PackageReferenceApp", $"""<PackageReference Include="GradientDescent.Autodiff.Torch" Version="{version}" />""", feed);
        }

        /// <summary>Writes a console project like `dotnet new console` plus one reference, builds it, returns its output.</summary>
        private BuiltApp Build(string name, string reference, string? extraSource)
        {
            string folder = Path.Combine(Root, name);
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, name + ".csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <ItemGroup>
                    {reference}
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(folder, "Program.cs"), Program);
            string sources = (extraSource is null ? string.Empty : $"""<add key="feed" value="{extraSource}" />""")
                + $"""<add key="machine" value="{MachinePackages}" />""";
            File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <config><add key="globalPackagesFolder" value="{Path.Combine(Root, "packages")}" /></config>
                  <packageSources><clear />{sources}</packageSources>
                  <fallbackPackageFolders><clear /><add key="machine" value="{MachinePackages}" /></fallbackPackageFolders>
                </configuration>
                """);

            // Hard links instead of copies of the 1.4 GB of native libraries (the same files, without writing them again;
            // nothing here writes through them); no MSBuild nodes or compiler server left behind.
            Check(
                RunProcess(
                    "dotnet",
                    ["build", folder, "-c", Configuration, "--disable-build-servers", "-nodeReuse:false", "--nologo",
                     "-p:CreateHardLinksForCopyLocalIfPossible=true"],
                    folder),
                $"dotnet build {name}");
            string output = Path.Combine(folder, "bin", Configuration, "net10.0");
            return new BuiltApp(Path.Combine(output, name + ".dll"), output);
        }

        private static void Check(Run run, string what)
        {
            if (run.ExitCode != 0)
            {
                throw new InvalidOperationException($"{what} failed with exit code {run.ExitCode}.\n{run.Output}\n{run.Error}");
            }
        }
    }
}
