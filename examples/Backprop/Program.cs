// A backpropagation lecture: micrograd's two test expressions and the seed's logistic regression on one admissions
// point, each with its backward pass step by step, its graph as SVG and as an HTML page (the graph above the steps;
// choosing a step highlights its node). The lecture itself is in Lecture.cs; this file only runs it.
//
// Usage: dotnet run -c Release --project examples/Backprop [folder]
// Prints the traces and checks; writes backprop-*.svg and backprop-*.html into the folder (default: the current
// directory). Exit code 0 when every gradient equals micrograd's published value and the seed's hand formula; 1
// otherwise.
using System.Globalization;
using GradientDescent.Autodiff.Examples.Backprop;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string folder = args.Length > 0 ? args[0] : Directory.GetCurrentDirectory();
return Lecture.Run(Console.Out, folder).Passed ? 0 : 1;
