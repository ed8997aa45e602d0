using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using GradientDescent.Build;
using TorchSharp;

namespace GradientDescent.Autodiff.Torch;

/// <summary>
/// Makes TorchSharp's native backend load in any project that references this bridge, and says in one line why when it
/// cannot.
/// </summary>
/// <remarks>
/// <para>TorchSharp-cpu 0.107.0's shim libLibTorchSharp.so requires GLIBCXX_3.4.32 (GCC 13's libstdc++) for one symbol,
/// <c>std::ios_base_library_init()</c>, that GCC 13's &lt;iostream&gt; references and nothing calls. On Linux systems with
/// an older libstdc++ (Debian 12, Ubuntu 22.04) the dynamic loader therefore rejects the shim, and TorchSharp reports
/// "doesn't contain a reference to libtorch-cpu-linux-x64", which misleads. This repository's own projects patch the
/// output copy at build time (build/TorchSharpGlibcxxFix.targets); a user's project does not import that file.</para>
/// <para>So, at run time: when the bridge is first used, it handles <see cref="AssemblyLoadContext.ResolvingUnmanagedDll"/>,
/// which .NET raises only after its ordinary probing failed to load a library. For the shim, it reads the output's copy,
/// sets VER_FLG_WEAK on that one version requirement in memory (<see cref="ElfVersionPatcher"/>), loads the libraries the
/// shim needs from the shim's own folder (a copy elsewhere cannot find them through its $ORIGIN run path), writes the
/// relaxed bytes to a fresh private temporary folder, loads them, and deletes the file (the mapping stays). The output
/// folder, the NuGet cache and system files are never written. Where the ordinary load succeeds (a newer libstdc++,
/// another OS, a build-time-patched output) the handler is never called.</para>
/// <para>If libtorch still cannot load, <see cref="EnsureLoaded"/> replaces TorchSharp's message with the dynamic
/// loader's own, in one line.</para>
/// </remarks>
internal static class TorchNativeLoader
{
    private const string ShimFile = "libLibTorchSharp.so";
    private const string Libstdcxx = "libstdc++.so.6";
    private const string Glibcxx3432 = "GLIBCXX_3.4.32";

    private static readonly Lazy<string?> LoadFailure = new(TryLoad, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly object Gate = new();
    private static int registered;
    private static bool attempted;
    private static IntPtr relaxedShim;
    private static string? relaxedShimFailure;

    /// <summary>Arms the fallback as soon as anything in this assembly is used, before any torch call.</summary>
#pragma warning disable CA2255 // A library's module initializer: it only subscribes an event handler, and must run before the
                               // user's first torch call through this bridge, whichever entry point that is.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        if (OperatingSystem.IsLinux() && Interlocked.Exchange(ref registered, 1) == 0)
        {
            AssemblyLoadContext.Default.ResolvingUnmanagedDll += Resolve;
        }
    }

    /// <summary>
    /// Loads TorchSharp's native backend, or throws <see cref="InvalidOperationException"/> whose one-line message is the
    /// dynamic loader's reason (e.g. "…/libtorch_cpu.so: file too short").
    /// </summary>
    internal static void EnsureLoaded()
    {
        if (LoadFailure.Value is { } failure)
        {
            throw new InvalidOperationException(failure);
        }
    }

    private static string? TryLoad()
    {
        Register();
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            return null;
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException
                                      or EntryPointNotFoundException or BadImageFormatException)
        {
            return DescribeLoadFailure(NativeDirectories(), RelaxedShimFailure(), e);
        }
    }

    private static string? RelaxedShimFailure()
    {
        lock (Gate)
        {
            return relaxedShimFailure;
        }
    }

    /// <summary>
    /// One line saying why libtorch does not load: the first of the shim's needed libraries in its folder, then the shim,
    /// that the dynamic loader rejects, with the loader's message; else TorchSharp's own first line.
    /// </summary>
    /// <param name="directories">Where the native libraries may be (the host's native search directories).</param>
    /// <param name="relaxedShimFailure">Why loading the relaxed copy of the shim failed, if it was tried.</param>
    /// <param name="torchError">TorchSharp's exception.</param>
    internal static string DescribeLoadFailure(IEnumerable<string> directories, string? relaxedShimFailure, Exception? torchError)
    {
        const string Prefix = "TorchSharp cannot load libtorch: ";
        string[] searched = [.. directories];
        string? shim = searched.Select(d => Path.Combine(d, ShimFile)).FirstOrDefault(File.Exists);
        if (!OperatingSystem.IsLinux() || shim is null)
        {
            string where = OperatingSystem.IsLinux()
                ? $"{ShimFile} is in none of the native library directories ({string.Join(", ", searched)}); does the project reference TorchSharp-cpu? "
                : string.Empty;
            return Prefix + where + "TorchSharp says: " + FirstLine(Innermost(torchError)?.Message ?? "(no exception)");
        }

        string folder = Path.GetDirectoryName(shim)!;
        IReadOnlyList<string> needed;
        try
        {
            needed = ElfVersionPatcher.ReadNeededLibraries(File.ReadAllBytes(shim));
        }
        catch (Exception e) when (e is ElfFormatException or IOException or UnauthorizedAccessException)
        {
            needed = [];
        }

        foreach (string library in needed.Select(n => Path.Combine(folder, n)).Where(File.Exists).Append(shim))
        {
            if (library == shim && relaxedShimFailure is not null)
            {
                return Prefix + relaxedShimFailure;
            }

            if (LoaderError(library) is { } error)
            {
                return Prefix + "dlopen: " + error;
            }
        }

        return Prefix + "its native libraries in " + folder + " load, but TorchSharp says: "
            + FirstLine(Innermost(torchError)?.Message ?? "(no exception)");
    }

    private static IntPtr Resolve(Assembly assembly, string name)
    {
        if (name != "LibTorchSharp" && name != ShimFile)
        {
            return IntPtr.Zero;
        }

        lock (Gate)
        {
            if (!attempted)
            {
                attempted = true;
                try
                {
                    relaxedShim = LoadRelaxedShim(NativeDirectories());
                }
                catch (Exception e) when (e is DllNotFoundException or ElfFormatException or IOException or UnauthorizedAccessException)
                {
                    relaxedShimFailure = e is DllNotFoundException
                        ? "dlopen of " + ShimFile + " with its " + Glibcxx3432 + " requirement relaxed: " + FirstLine(LastLine(e.Message))
                        : "cannot make a relaxed copy of " + ShimFile + ": " + FirstLine(e.Message);
                }
            }

            return relaxedShim;
        }
    }

    /// <summary>The relaxed shim's handle, or zero when relaxing cannot help (no strong GLIBCXX_3.4.32 requirement).</summary>
    private static IntPtr LoadRelaxedShim(IEnumerable<string> directories)
    {
        string? shim = directories.Select(d => Path.Combine(d, ShimFile)).FirstOrDefault(File.Exists);
        if (shim is null)
        {
            return IntPtr.Zero;
        }

        byte[] bytes = File.ReadAllBytes(shim);
        ElfVersionRequirement? requirement = ElfVersionPatcher.FindRequirement(bytes, Libstdcxx, Glibcxx3432);
        if (requirement is null || requirement.IsWeak)
        {
            return IntPtr.Zero; // The load failed for another reason; EnsureLoaded reports it.
        }

        ElfVersionPatcher.MakeRequirementWeak(bytes, Libstdcxx, Glibcxx3432);

        // The copy's $ORIGIN is the temporary folder: load what it needs from the shim's folder first, so the loader
        // finds them among the loaded objects by their sonames.
        string folder = Path.GetDirectoryName(shim)!;
        foreach (string library in ElfVersionPatcher.ReadNeededLibraries(bytes).Select(n => Path.Combine(folder, n)).Where(File.Exists))
        {
            NativeLibrary.Load(library);
        }

        DirectoryInfo temporary = Directory.CreateTempSubdirectory("GradientDescent.Autodiff.Torch-"); // mode 0700
        try
        {
            string copy = Path.Combine(temporary.FullName, ShimFile);
            File.WriteAllBytes(copy, bytes);
            return NativeLibrary.Load(copy);
        }
        finally
        {
            temporary.Delete(recursive: true);
        }
    }

    /// <summary>The host's native library search directories (from the app's deps.json), then TorchSharp's own folder.</summary>
    private static IEnumerable<string> NativeDirectories()
    {
        var directories = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string list)
        {
            directories.AddRange(list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        }

        if (Path.GetDirectoryName(typeof(torch).Assembly.Location) is { Length: > 0 } torchFolder)
        {
            directories.Add(torchFolder);
            directories.Add(Path.Combine(torchFolder, "runtimes", RuntimeInformation.RuntimeIdentifier, "native"));
        }

        return directories.Distinct();
    }

    /// <summary>The dynamic loader's message for <paramref name="path"/>, or null if it loads.</summary>
    private static string? LoaderError(string path)
    {
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(path));
            return null;
        }
        catch (DllNotFoundException e)
        {
            // .NET's message is an advice sentence, a new line, then dlerror()'s text.
            return FirstLine(LastLine(e.Message));
        }
        catch (BadImageFormatException e)
        {
            return path + ": " + FirstLine(e.Message);
        }
    }

    private static Exception? Innermost(Exception? e)
    {
        while (e?.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }

    private static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? text;

    private static string FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? text;
}
