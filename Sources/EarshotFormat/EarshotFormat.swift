// EarshotFormat: module placeholder; its issue fills it in.
