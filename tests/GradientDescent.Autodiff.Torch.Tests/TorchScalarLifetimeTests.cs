using Xunit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using TorchSharp;
using static TorchSharp.torch;

namespace GradientDescent.Autodiff.Torch.Tests;

/// <summary>
/// The bridge passes numbers to libtorch only as Scalars it keeps alive until the call returns (TorchScalars): a Scalar
/// converted implicitly from a double can be finalized during the native call that reads it.
/// </summary>
public sealed class TorchScalarLifetimeTests
{
    [Fact]
    public void Bridge_MakesEveryScalarInTorchScalars_NoImplicitConversionAnywhereElse()
    {
        // The calls that make a TorchSharp Scalar nobody disposes: the implicit conversion, ToScalar, and
        // Tensor.square() (TorchSharp's is pow(2) through the implicit conversion). Only TorchScalars may make one.
        string assembly = typeof(TorchReplay).Assembly.Location;
        List<string> found = CallsOutside(assembly, "TorchScalars",
            ("TorchSharp", "Scalar", "op_Implicit"), ("TorchSharp", "ScalarExtensionMethods", "ToScalar"), ("TorchSharp", "Tensor", "square"));
        Assert.True(found.Count == 0, "made a Scalar outside TorchScalars: " + string.Join("; ", found));
        // The scan sees such calls: TorchScalars itself makes two.
        Assert.Equal(2, CallsOutside(assembly, "no type", ("TorchSharp", "ScalarExtensionMethods", "ToScalar")).Count);
    }

    [Fact]
    public void TorchScalars_GiveLibtorchsNumbers()
    {
        TorchRuntime.EnsureLoaded();
        using DisposeScope scope = NewDisposeScope();
        Tensor x = tensor(new[] { -1.5, 0.25, 3.0 }, float64);
        Assert.Equal(new[] { 2.25, 0.0625, 9.0 }, TorchScalars.Square(x).data<double>().ToArray());
        Assert.Equal(new[] { -0.75, 0.125, 1.5 }, TorchScalars.With(0.5, half => x.mul(half)).data<double>().ToArray());
        Assert.Equal((x * 0.5).data<double>().ToArray(), TorchScalars.With(0.5, half => x.mul(half)).data<double>().ToArray());
    }

    /// <summary>
    /// "Type::Method" of every method outside <paramref name="allowedType"/> whose IL calls one of
    /// <paramref name="targets"/> (namespace, type, method), read from the assembly's metadata: a call or callvirt
    /// whose operand is a reference to that member.
    /// </summary>
    private static List<string> CallsOutside(string path, string allowedType, params (string Namespace, string Type, string Method)[] targets)
    {
        using FileStream stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        MetadataReader md = pe.GetMetadataReader();
        var tokens = new Dictionary<int, string>();
        foreach (MemberReferenceHandle h in md.MemberReferences)
        {
            MemberReference member = md.GetMemberReference(h);
            if (member.Parent.Kind != HandleKind.TypeReference) continue;
            TypeReference type = md.GetTypeReference((TypeReferenceHandle)member.Parent);
            (string, string, string) key = (md.GetString(type.Namespace), md.GetString(type.Name), md.GetString(member.Name));
            if (type.ResolutionScope.Kind == HandleKind.TypeReference)
            {
                // A nested type (torch.Tensor): its namespace is its enclosing type's.
                key.Item1 = md.GetString(md.GetTypeReference((TypeReferenceHandle)type.ResolutionScope).Namespace);
            }
            if (targets.Contains(key)) tokens[MetadataTokens.GetToken(h)] = $"{key.Item2}.{key.Item3}";
        }
        var found = new List<string>();
        foreach (TypeDefinitionHandle th in md.TypeDefinitions)
        {
            TypeDefinition type = md.GetTypeDefinition(th);
            string name = md.GetString(type.Name);
            if (name == allowedType) continue;
            foreach (MethodDefinitionHandle mh in type.GetMethods())
            {
                MethodDefinition method = md.GetMethodDefinition(mh);
                if (method.RelativeVirtualAddress == 0) continue;
                byte[] il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILBytes() ?? [];
                for (int i = 0; i + 4 < il.Length; i++)
                {
                    if (il[i] is not (0x28 or 0x6F)) continue; // call, callvirt
                    if (tokens.TryGetValue(BitConverter.ToInt32(il, i + 1), out string? what)) found.Add($"{name}.{md.GetString(method.Name)} calls {what}");
                }
            }
        }
        return found;
    }
}
