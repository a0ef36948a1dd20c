// A minimal web API over Functional's hosting library: the models come from configuration
// (Functional:Models:{name}:Source and :Checkpoint), see README.md.
using Functional.Hosting;
using Functional.Service;

// Settings beside the program; model paths relative to the current folder.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var maxBody = builder.Configuration.GetValue<long>("Service:MaxBodyBytes", 1 << 20);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = maxBody);
builder.Services.AddProblemDetails();
builder.Services.AddFunctionalModels(builder.Configuration);
builder.Services.AddHealthChecks().AddFunctionalModels();
builder.Services.AddSingleton<GenerationCounters>();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapHealthChecks("/health");
app.MapGet("/models", ModelsEndpoint.List);
app.MapPost("/models/{name}/predict", PredictEndpoint.Handle);
app.MapPost("/models/{name}/generate", GenerateEndpoint.Handle);
app.Run();

/// <summary>The service's entry point (public for the tests' WebApplicationFactory).</summary>
public partial class Program;
