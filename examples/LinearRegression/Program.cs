// The second seed (linear regression with a squared loss), with the gradient derived by the tape instead of by hand.
// The lesson itself is in Lesson.cs; this file only runs it.
//
// Usage: dotnet run -c Release --project examples/LinearRegression
// Exit code 0 when every step's autodiff gradient matches the seed's hand formula and the trained weights match the
// least-squares solution; 1 otherwise.
using System.Globalization;
using GradientDescent.Autodiff.Examples.LinearRegression;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return Lesson.Run(Console.Out).Passed ? 0 : 1;
