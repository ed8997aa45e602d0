// A backpropagation lecture: micrograd's two test expressions and the seed's logistic regression on one admissions
// point, each with its backward pass step by step. The lecture itself is in Lecture.cs; this file only runs it.
//
// Usage: dotnet run -c Release --project examples/Backprop
// Prints the traces and checks. Exit code 0 when every gradient equals micrograd's published value and the seed's
// hand formula; 1 otherwise.
using System.Globalization;
using GradientDescent.Autodiff.Examples.Backprop;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return Lecture.Run(Console.Out).Passed ? 0 : 1;
