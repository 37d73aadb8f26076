" The cost language of costi: .cost files.
autocmd BufNewFile,BufRead *.cost setfiletype cost
