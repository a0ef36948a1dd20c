/// The command line, declared for Argu (which also writes every --help).
module Functional.Cli.Arguments

open Argu

type OutputFormat =
    | Text
    | Json

type CheckArgs =
    | [<MainCommand; ExactlyOnce>] File of path: string
    | Format of OutputFormat

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | File _ -> "the .fnn file to check."
            | Format _ -> "text (default) or json (for editors and CI: every diagnostic with its file, line and column)."

type SummaryArgs =
    | [<MainCommand; ExactlyOnce>] File of path: string
    | Model of name: string
    | Set of assignment: string
    | Freeze of pattern: string
    | Lora of settings: string
    | Lora_On of pattern: string
    | Trainable of pattern: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | File _ -> "the .fnn file."
            | Model _ -> "summarise only this model (default: every model of the file)."
            | Set _ -> "override a hyperparameter, as name=value (--set dim=64); repeat for several."
            | Freeze _ -> "show the model as fnn finetune --freeze would train it (repeat for several); the train block's settings otherwise."
            | Lora _ -> "show the model with LoRA adapters of these settings (\"rank=8, alpha=16\"), on --lora-on's projections."
            | Lora_On _ -> "show the model with LoRA adapters on the projections this glob matches (*.query.weight); repeat for several."
            | Trainable _ -> "with LoRA: base parameters that train besides the adapters; repeat for several."

type TrainArgs =
    | [<MainCommand; ExactlyOnce>] File of path: string
    | Model of name: string
    | Epochs of count: int
    | Lr of rate: float
    | Batch of size: int
    | Optimizer of optimizer: string
    | Schedule of schedule: string
    | Data of path: string
    | Labels of path: string
    | Valid of path: string
    | Valid_Labels of path: string
    | Valid_Split of fraction: float
    | Normalize of normalization: string
    | Classes of selection: string
    | [<CustomCommandLine("--text")>] Text_Path of path: string
    | Tokenizer of kind: string
    | Context of tokens: int
    | Sampling of sampling: string
    | Patience of epochs: int
    | History of path: string
    | Resume of directory: string
    | Plot of path: string
    | Seed of seed: int64
    | Out of directory: string
    | Device of device: string
    | Set of assignment: string
    | Strict
    | From of directory: string
    | Key_Map of map: string
    | Freeze of pattern: string
    | Unfreeze_At of epoch: int
    | Lr_For of rule: string
    | Lora of settings: string
    | Lora_On of pattern: string
    | Trainable of pattern: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Set _ -> "override a hyperparameter, as name=value (--set hidden=32); repeat for several. With --resume, the checkpoint's values are used, and one given must agree."
            | Strict -> "with --resume: refuse a source that has changed since the checkpoint was written (otherwise a warning)."
            | File _ -> "the .fnn file whose train blocks to run."
            | Model _ -> "train only this model (default: every model with a train block)."
            | Epochs _ -> "override the train block's epochs."
            | Lr _ -> "override the optimizer's learning rate."
            | Batch _ -> "override the number of examples per step."
            | Optimizer _ -> "replace the optimizer, written as in a train block: sgd, rmsprop, adam or adamw, with options, e.g. \"adamw(lr=0.001, weightDecay=0.05)\"."
            | Schedule _ -> "replace the learning-rate schedule, written as in a train block, e.g. \"cosine(epochs=20, warmupEpochs=1)\" or \"stepDecay(every=10, gamma=0.1)\"."
            | Data _ -> "train on this file instead of the train block's data: IDX images (MNIST layout, .gz or not; labels found beside them) or CSV (last column the label)."
            | Labels _ -> "the IDX labels file of --data, when not beside the images by the MNIST naming."
            | Valid _ -> "validate on this file after each epoch (same formats as --data)."
            | Valid_Labels _ -> "the IDX labels file of --valid."
            | Valid_Split _ -> "without --valid, hold out this fraction of --data for validation (seeded); of --text's documents (default 0.1)."
            | Text_Path _ -> "train a language model on this UTF-8 text file or folder of them (fortune entries between % lines, or paragraphs); not with --data. The train block may then have no data."
            | Tokenizer _ -> "with --text: char (default; the text's characters), byte (UTF-8 bytes) or gpt2. With --resume, the checkpoint's."
            | Context _ -> "with --text: tokens per window (default: the model's input length, or its positional layer's)."
            | Sampling _ -> "with --text: random (default; windows at every offset, shuffled, an epoch about one pass) or sequential (non-overlapping windows)."
            | Normalize _ -> "none (default), scale (divide by 255), scale:X, or standardize (mean and deviation of --data)."
            | Classes _ -> "keep only these classes of --data and --valid, relabelled in the order written: \"top=0,2,4,6; other=1,3,5,7,8,9\" makes classes top (0) and other (1); classes by index, or by name for CSV labels. The model outputs one score per new class."
            | Patience _ -> "stop when the validation loss (or, without validation, the loss) has not improved for this many epochs, and keep the best weights."
            | History _ -> "write each epoch's loss and metrics to this file (JSON lines, or CSV when it ends in .csv)."
            | Plot _ -> "draw the loss curves (and the metrics, on a second axis) of a run on data files into this PNG file."
            | Resume _ -> "continue the run whose checkpoint folder this is (written by --out with --data), exactly where it stopped; --epochs is the total. Without --out it saves into this folder."
            | Seed _ -> "seed for the initial weights and shuffling (default 1)."
            | Out _ -> "write weights.safetensors and model.json here (one sub-folder per model when several are trained); with --data, after every epoch, with what --resume needs."
            | Device _ -> "cpu, cuda, cuda:N or auto (default cpu)."
            | From _ -> "start from this checkpoint's weights, by parameter path: matching paths and shapes are loaded, new or replaced parts start fresh, and the mapping is printed (fnn finetune needs it)."
            | Key_Map _ -> "with --from: how the checkpoint's tensor names become parameter paths, as \"from=to; ...\" rules (* carries over; an empty 'to' leaves a tensor out), or a JSON file of them: for weights trained elsewhere, such as a PyTorch state_dict."
            | Freeze _ -> "freeze the parameters whose paths match this glob (* any characters, ? one): no gradient, no optimizer state, no weight decay; batch norm there keeps its running statistics. Repeat for several."
            | Unfreeze_At _ -> "with --freeze: from this epoch (2 or later) the frozen parameters train too."
            | Lr_For _ -> "a learning rate of its own for the parameters a glob matches, as PATTERN=RATE (--lr-for \"head.*=0.01\"); repeat for several, a later one wins."
            | Lora _ -> "add LoRA adapters with these settings, PEFT's: \"rank=8, alpha=8, dropout=0\" (the defaults); with --lora-on. The base is frozen; the adapter is saved alone in --out (adapter_model.safetensors, adapter_config.json)."
            | Lora_On _ -> "the projections to adapt, as a glob over their weight paths (*.query.weight, head.weight, * for all); repeat for several. Alone, it adds adapters with the default settings."
            | Trainable _ -> "with LoRA: base parameters that train besides the adapters (a new head), as a glob; repeat for several."

type PredictArgs =
    | [<MainCommand; ExactlyOnce>] File of path: string
    | [<Mandatory>] Weights of directory: string
    | [<Mandatory>] Input of values: string
    | Set of assignment: string
    | Strict
    | Device of device: string
    | Adapter of directory: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | File _ -> "the .fnn file the weights were trained from."
            | Weights _ -> "a checkpoint folder written by 'fnn train --out'."
            | Input _ -> "one example's values, separated by commas (\"0,1\"); repeat for several examples."
            | Set _ -> "a hyperparameter, as name=value; the checkpoint's values are used without it, and one given must agree."
            | Strict -> "refuse a source that has changed since the checkpoint was written (otherwise a warning)."
            | Device _ -> "cpu, cuda, cuda:N or auto (default cpu)."
            | Adapter _ -> "a LoRA adapter folder (written by fnn finetune --lora) to load onto --weights, the checkpoint it was fine-tuned from."

type EvalArgs =
    | [<MainCommand; ExactlyOnce>] File of path: string
    | [<Mandatory>] Weights of directory: string
    | [<Mandatory>] Data of path: string
    | Labels of path: string
    | Normalize of normalization: string
    | Classes of selection: string
    | Set of assignment: string
    | Strict
    | Device of device: string
    | Adapter of directory: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | File _ -> "the .fnn file the weights were trained from."
            | Weights _ -> "a checkpoint folder written by 'fnn train --out'."
            | Set _ -> "a hyperparameter, as name=value; the checkpoint's values are used without it, and one given must agree."
            | Strict -> "refuse a source that has changed since the checkpoint was written (otherwise a warning)."
            | Classes _ -> "as in fnn train: the classes the network was trained with --classes, e.g. \"top=0,2,4,6; other=1,3,5,7,8,9\"."
            | Data _ -> "the examples to evaluate on: IDX images (labels beside them) or CSV."
            | Labels _ -> "the IDX labels file, when not beside the images by the MNIST naming."
            | Normalize _ -> "as in fnn train: none, scale, scale:X or standardize (this data's own mean and deviation)."
            | Device _ -> "cpu, cuda, cuda:N or auto (default cpu)."
            | Adapter _ -> "a LoRA adapter folder (written by fnn finetune --lora) to load onto --weights, the checkpoint it was fine-tuned from."

type GenerateArgs =
    | [<MainCommand; ExactlyOnce>] File of path: string
    | [<Mandatory>] Weights of directory: string
    | Prompt of text: string
    | Tokens of count: int
    | Temperature of value: float
    | Top_K of count: int
    | Top_P of probability: float
    | Stop of text: string
    | Seed of seed: int
    | No_Cache
    | Set of assignment: string
    | Strict
    | Device of device: string
    | Adapter of directory: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | File _ -> "the .fnn file the language model was trained from."
            | Weights _ -> "a checkpoint folder written by 'fnn train --text ... --out' (it holds the tokenizer)."
            | Prompt _ -> "the text to continue (default: a line break, whose continuation alone is printed)."
            | Tokens _ -> "new tokens to generate at most (default 200)."
            | Temperature _ -> "divide the scores by this before sampling: below 1 sharper, 0 greedy (default 1)."
            | Top_K _ -> "sample only among the K most likely tokens."
            | Top_P _ -> "sample only among the most likely tokens whose probability reaches P (0 < P <= 1)."
            | Stop _ -> "end the text just before the first occurrence of this text in the continuation; repeat for several."
            | Seed _ -> "seed for sampling: the same seed, file and checkpoint give the same text (default: random, printed)."
            | No_Cache -> "recompute the whole window for every token instead of keeping each attention's keys and values."
            | Set _ -> "a hyperparameter, as name=value; the checkpoint's values are used without it, and one given must agree."
            | Strict -> "refuse a source that has changed since the checkpoint was written (otherwise a warning)."
            | Device _ -> "cpu, cuda, cuda:N or auto (default cpu)."
            | Adapter _ -> "a LoRA adapter folder (written by fnn finetune --lora) to load onto --weights, the checkpoint it was fine-tuned from."

type MergeArgs =
    | [<MainCommand; ExactlyOnce>] File of path: string
    | [<Mandatory>] Weights of directory: string
    | [<Mandatory>] Adapter of directory: string
    | [<Mandatory>] Out of directory: string
    | Float32
    | Set of assignment: string
    | Strict

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | File _ -> "the .fnn file the base network was trained from."
            | Weights _ -> "the base checkpoint folder the adapter was fine-tuned from."
            | Adapter _ -> "the LoRA adapter folder (adapter_model.safetensors, adapter_config.json)."
            | Out _ -> "write the merged network here, as a checkpoint (weights.safetensors, model.json) with no adapters."
            | Float32 -> "merge in float32 instead of float64 (then cast to the weights' type either way)."
            | Set _ -> "a hyperparameter, as name=value; the checkpoint's values are used without it, and one given must agree."
            | Strict -> "refuse a source that has changed since the checkpoint or the adapter was written (otherwise a warning)."

type FnnArgs =
    | [<CliPrefix(CliPrefix.None)>] Check of ParseResults<CheckArgs>
    | [<CliPrefix(CliPrefix.None)>] Summary of ParseResults<SummaryArgs>
    | [<CliPrefix(CliPrefix.None)>] Train of ParseResults<TrainArgs>
    | [<CliPrefix(CliPrefix.None)>] Eval of ParseResults<EvalArgs>
    | [<CliPrefix(CliPrefix.None)>] Predict of ParseResults<PredictArgs>
    | [<CliPrefix(CliPrefix.None)>] Generate of ParseResults<GenerateArgs>
    | [<CliPrefix(CliPrefix.None)>] Finetune of ParseResults<TrainArgs>
    | [<CliPrefix(CliPrefix.None)>] Merge of ParseResults<MergeArgs>
    | Version
    | [<Inherit>] Verbose

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Verbose -> "on an unexpected failure, print its stack trace too (also FNN_VERBOSE=1)."
            | Check _ -> "check a .fnn file: syntax, names and shapes (exit code 1 on errors)."
            | Summary _ -> "list each model's layers, output shapes and parameter counts."
            | Train _ -> "train the models of a .fnn file as its train blocks say."
            | Eval _ -> "evaluate a trained network on a data file: its loss and, for classifiers, accuracy."
            | Predict _ -> "run a trained network on inputs."
            | Generate _ -> "continue a prompt with a trained language model, streaming the text to standard output."
            | Finetune _ -> "fine-tune a model from a trained checkpoint (--from): freeze parts, give them their own rates, or train LoRA adapters; every option of train applies."
            | Merge _ -> "merge a LoRA adapter into its base weights, reporting the largest output difference on a probe batch."
            | Version -> "print the version."
