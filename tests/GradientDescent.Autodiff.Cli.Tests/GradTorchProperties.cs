using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDescent.Autodiff.Torch;
using TorchSharp;
using static GradientDescent.Autodiff.Cli.Tests.CliRunner;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GradientDescent.Autodiff.Cli.Tests;

/// <summary>
/// <c>gdad grad --json</c> on random formulas against PyTorch's autograd. Each random formula is built twice at once:
/// as text (for gdad) and as TorchSharp calls (float64), so libtorch differentiates its own reading of the formula,
/// not a replay of gdad's tape: a wrong parse, a wrong recording or a wrong derivative rule all show.
/// </summary>
/// <remarks>
/// Domains are kept inside the functions' (ln and √ of 0.5 + u², arcsin of 0.9·tanh u, …) so that most values are
/// finite; where both sides still give NaN or the same infinity they agree. Agreement: 10⁻¹⁰ relative, with the floor
/// 10⁻¹² · max(1, the largest magnitude among value and gradient), as <see cref="TorchCrossCheckOptions"/> explains.
/// </remarks>
public sealed class GradTorchProperties
{
    /// <summary>A formula as text and as a TorchSharp computation of the same variables.</summary>
    public sealed record Formula(string Text, Func<IReadOnlyDictionary<string, Tensor>, Tensor> Torch)
    {
        public override string ToString() => Text;
    }

    static GradTorchProperties()
    {
        // Loads libtorch through the bridge (its loader fixes the native library path on Linux) before any direct call.
        var p = new ScalarParameter("p", 1);
        var tape = new Tape();
        Scalar l = tape.Use(p) * 2.0;
        l.Backward();
        TorchCrossCheck.Compare(l);
    }

    private static readonly string[] Names = ["x", "y", "z"];

    private static Gen<Formula> Leaf =>
        Gen.Frequency(
            (4, Gen.Elements(Names).Select(n => new Formula(n, v => v[n]))),
            (1, Gen.Elements(0.5, 2.0, 3.0, 1.5, 0.25).Select(c => new Formula(c.ToString("R", CultureInfo.InvariantCulture), _ => tensor(c, float64)))));

    /// <summary>0.5 + a².</summary>
    private static Tensor HalfPlusSquare(Tensor a) => TorchScalars.Add(TorchScalars.Pow(a, 2), 0.5);

    /// <summary>
    /// Functions of one formula: the text around it and the torch equivalent. Numbers reach libtorch through
    /// <see cref="TorchScalars"/>: run thousands of times a test, a Scalar TorchSharp makes implicitly would now and then be
    /// finalized during the call that reads it.
    /// </summary>
    private static readonly (string Text, Func<Tensor, Tensor> Torch)[] Unary =
    [
        ("exp(tanh({0}))", a => a.tanh().exp()),
        ("log(0.5 + ({0})^2)", a => HalfPlusSquare(a).log()),
        ("log2(0.5 + ({0})^2)", a => HalfPlusSquare(a).log2()),
        ("log10(0.5 + ({0})^2)", a => HalfPlusSquare(a).log10()),
        ("sqrt(0.5 + ({0})^2)", a => HalfPlusSquare(a).sqrt()),
        ("abs({0})", a => a.abs()),
        ("square({0})", a => TorchScalars.Square(a)),
        ("sign({0})", a => a.sign()),
        ("floor({0})", a => a.floor()),
        ("ceil({0})", a => a.ceil()),
        ("round({0})", a => a.round()),
        ("sin({0})", a => a.sin()),
        ("cos({0})", a => a.cos()),
        ("tan(tanh({0}))", a => a.tanh().tan()),
        ("asin(0.9*tanh({0}))", a => TorchScalars.Mul(a.tanh(), 0.9).asin()),
        ("acos(0.9*tanh({0}))", a => TorchScalars.Mul(a.tanh(), 0.9).acos()),
        ("atan({0})", a => a.atan()),
        ("sinh(2*tanh({0}))", a => TorchScalars.Mul(a.tanh(), 2.0).sinh()),
        ("cosh(2*tanh({0}))", a => TorchScalars.Mul(a.tanh(), 2.0).cosh()),
        ("tanh({0})", a => a.tanh()),
        ("sigmoid({0})", a => a.sigmoid()),
        ("logsigmoid({0})", a => F.logsigmoid(a)),
        // −logsigmoid(−x), exact: F.softplus returns x itself above its threshold 20.
        ("softplus({0})", a => F.logsigmoid(a.neg()).neg()),
        ("relu({0})", a => a.relu()),
        ("leaky_relu({0}, 0.2)", a => TorchScalars.LeakyRelu(a, 0.2)),
        ("elu({0}, 1.5)", a => TorchScalars.Elu(a, 1.5)),
        // PyTorch's gelu is ½x(1 + erf(x/√2)), which cancels in the far lower tail; |3 tanh u| ≤ 3 stays clear of it.
        ("gelu(3*tanh({0}))", a => F.gelu(TorchScalars.Mul(a.tanh(), 3.0))),
        ("silu({0})", a => F.silu(a)),
        ("clamp({0}, -1, 1)", a => TorchScalars.With(-1, low => TorchScalars.With(1, high => a.clamp(low, high)))),
        ("-({0})", a => a.neg()),
        ("({0})^2", a => TorchScalars.Pow(a, 2)),
        ("({0})^3", a => TorchScalars.Pow(a, 3)),
        ("({0})*2", a => TorchScalars.Mul(a, 2)),
        ("3 - ({0})", a => TorchScalars.Add(a.neg(), 3)),
        ("2^tanh({0})", a => tensor(2.0, float64).pow(a.tanh())),
    ];

    private static readonly (string Text, Func<Tensor, Tensor, Tensor> Torch)[] Binary =
    [
        ("({0}) + ({1})", TorchScalars.Add),
        ("({0}) - ({1})", (a, b) => a - b),
        ("({0}) * ({1})", (a, b) => a * b),
        ("({0}) / (1 + ({1})^2)", (a, b) => a / TorchScalars.Add(TorchScalars.Pow(b, 2), 1)),
        ("pow(0.5 + ({0})^2, tanh({1}))", (a, b) => HalfPlusSquare(a).pow(b.tanh())),
        ("(0.5 + ({0})^2) ** tanh({1})", (a, b) => HalfPlusSquare(a).pow(b.tanh())),
        ("max({0}, {1})", (a, b) => a.maximum(b)),
        ("min({0}, {1})", (a, b) => a.minimum(b)),
    ];

    private static readonly Gen<Formula>[] BySize = Build(12);

    private static Gen<Formula>[] Build(int largest)
    {
        var gens = new Gen<Formula>[largest + 1];
        gens[0] = gens[1] = Leaf;
        for (int size = 2; size <= largest; size++)
        {
            Gen<Formula> less = gens[size - 1], half = gens[size / 2];
            gens[size] = Gen.Frequency(
                (1, Leaf),
                (3, from a in less
                    from u in Gen.Elements(Unary)
                    select new Formula(string.Format(CultureInfo.InvariantCulture, u.Text, a.Text), v => u.Torch(a.Torch(v)))),
                (3, from a in half
                    from b in half
                    from op in Gen.Elements(Binary)
                    select new Formula(string.Format(CultureInfo.InvariantCulture, op.Text, a.Text, b.Text), v => op.Torch(a.Torch(v), b.Torch(v)))));
        }
        return gens;
    }

    private static readonly Gen<(Formula Formula, double[] Point)> Cases =
        from f in Gen.Sized(n => BySize[Math.Clamp(n, 1, BySize.Length - 1)])
        from p in Gen.Choose(-200_000, 200_000).ArrayOf(3)
        select (f, p.Select(k => k / 100_000.0 + 1e-7).ToArray());

    [Property(MaxTest = 300)]
    public Property GradJson_RandomFormulas_AgreeWithTorchAutogradTo1e10() =>
        Prop.ForAll(Cases.ToArbitrary(), c =>
        {
            var (formula, point) = c;
            string at = string.Join(",", Names.Select((n, k) => $"{n}={point[k].ToString("R", CultureInfo.InvariantCulture)}"));
            // Only the variables the formula uses may be given.
            string[] used = [.. Names.Where(n => FirstUse(formula.Text, n) >= 0).OrderBy(n => FirstUse(formula.Text, n))];
            var r = used.Length == 0
                ? Run("grad", formula.Text, "--json")
                : Run("grad", formula.Text, "--at", string.Join(",", at.Split(',').Where(a => used.Contains(a[..1]))), "--json");
            Assert.True(r.Code == 0, $"{formula.Text}: exit {r.Code}: {r.Stderr}");

            var options = new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
            using var doc = JsonDocument.Parse(r.Stdout);
            double value = doc.RootElement.GetProperty("value").Deserialize<double>(options);
            var gradient = doc.RootElement.GetProperty("gradient").EnumerateObject()
                .ToDictionary(p => p.Name, p => p.Value.Deserialize<double>(options));
            Assert.Equal(used, gradient.Keys);

            using DisposeScope scope = NewDisposeScope();
            var leaves = new Dictionary<string, Tensor>();
            for (int k = 0; k < Names.Length; k++) leaves[Names[k]] = tensor(point[k], float64, requires_grad: true);
            Tensor y = formula.Torch(leaves);
            double torchValue = y.item<double>();
            var torchGrad = new Dictionary<string, double>();
            if (y.requires_grad)
            {
                y.backward();
                foreach (string n in used) torchGrad[n] = leaves[n].grad?.item<double>() ?? 0;
            }
            else
            {
                foreach (string n in used) torchGrad[n] = 0;
            }

            double scale = 1;
            foreach (double v in gradient.Values.Append(value).Concat(torchGrad.Values).Append(torchValue))
            {
                if (double.IsFinite(v)) scale = Math.Max(scale, Math.Abs(v));
            }
            Assert.True(Agree(value, torchValue, scale), $"{formula.Text} at {at}: value {value:R} vs torch {torchValue:R}");
            foreach (string n in used)
            {
                Assert.True(Agree(gradient[n], torchGrad[n], scale), $"{formula.Text} at {at}: ∂/∂{n} {gradient[n]:R} vs torch {torchGrad[n]:R}");
            }
        });

    /// <summary>Where the formula's text first names variable <paramref name="n"/> (a one-letter name not inside another word), or −1.</summary>
    private static int FirstUse(string text, string n)
    {
        for (int k = text.IndexOf(n, StringComparison.Ordinal); k >= 0; k = text.IndexOf(n, k + 1, StringComparison.Ordinal))
        {
            bool before = k > 0 && (char.IsLetterOrDigit(text[k - 1]) || text[k - 1] == '_');
            bool after = k + 1 < text.Length && (char.IsLetterOrDigit(text[k + 1]) || text[k + 1] == '_');
            if (!before && !after) return k;
        }
        return -1;
    }

    /// <summary>10⁻¹⁰ relative, or 10⁻¹² of the case's scale; equal non-finite values agree.</summary>
    private static bool Agree(double a, double t, double scale)
    {
        if (a.Equals(t)) return true;
        double d = Math.Abs(a - t);
        return d <= 1e-10 * Math.Max(Math.Abs(a), Math.Abs(t)) || d <= 1e-12 * scale;
    }
}
