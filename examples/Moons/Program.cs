// micrograd's demo, on this library's tape. The lesson itself is in Demo.cs; this file only runs it.
//
// Usage: dotnet run -c Release --project examples/Moons [moons.png]
// Writes the decision boundary to moons.png (or the path given). Exit code 0 when the scalar and batched gradients
// agreed and the plot was written; 1 when the gradients disagreed.
using System.Globalization;
using GradientDescent.Autodiff.Examples.Moons;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string png = args.Length > 0 ? args[0] : "moons.png";
Demo.Result result = Demo.Run(Console.Out, png);
return result.GradientsAgree ? 0 : 1;
